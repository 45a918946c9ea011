"""The projects pages, under /projects/: the project library and the yearly key-project list as a
12-month grid."""

app_name = "projects"

urlpatterns: list = []
