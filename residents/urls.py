"""residents pages."""

app_name = "residents"

urlpatterns: list = []
