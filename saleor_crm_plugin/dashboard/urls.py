from django.urls import path

from . import views

app_name = "saleor_crm_dashboard"

urlpatterns = [
    path("dashboard/assets/<path:name>", views.asset, name="asset"),
    path("dashboard/", views.page, name="home"),
    path("dashboard/<path:view>", views.page, name="page"),
]
