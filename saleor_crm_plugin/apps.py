from django.apps import AppConfig


class CRMConfig(AppConfig):
    name = "saleor_crm_plugin"
    label = "saleor_crm_plugin"
    verbose_name = "Saleor CRM"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
