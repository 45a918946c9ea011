"""awards pages."""

app_name = "awards"

urlpatterns: list = []
