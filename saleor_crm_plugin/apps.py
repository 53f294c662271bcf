from django.apps import AppConfig


class CRMConfig(AppConfig):
    name = "saleor_crm_plugin"
    label = "saleor_crm_plugin"
    verbose_name = "Saleor CRM"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import checks  # noqa: F401  (registers the system checks)
        from .ops.tracing import install_celery_hooks
        from .tenants.models import Tenant
        from .tenants.services import forget_tenants

        install_celery_hooks()
        post_save.connect(forget_tenants, sender=Tenant, dispatch_uid="crm-forget-tenants")
        post_delete.connect(forget_tenants, sender=Tenant, dispatch_uid="crm-forget-tenants-del")

        register_periodic_tasks()


def register_periodic_tasks() -> None:
    """Add our periodic tasks to the host's beat schedule (Saleor's, or the standalone one's).

    A plugin cannot edit Saleor's settings file, but Celery reads ``CELERY_BEAT_SCHEDULE`` from
    the settings object when beat starts, after the apps are ready; entries the host already
    defines under the same names are left alone.
    """
    from django.conf import settings

    from .tasks import PERIODIC

    schedule = getattr(settings, "CELERY_BEAT_SCHEDULE", None)
    if schedule is None:
        schedule = {}
        settings.CELERY_BEAT_SCHEDULE = schedule
    if isinstance(schedule, dict):
        for name, entry in PERIODIC.items():
            schedule.setdefault(name, dict(entry))
