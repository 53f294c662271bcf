from django.urls import include, path

urlpatterns = [
    path("", include("saleor_crm_plugin.webhooks.urls")),
    path("", include("saleor_crm_plugin.graphql.urls")),
    path("", include("saleor_crm_plugin.dashboard.urls")),
]
