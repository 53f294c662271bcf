from django.apps import AppConfig


class CRMConfig(AppConfig):
    name = "saleor_crm_plugin"
    label = "saleor_crm_plugin"
    verbose_name = "Saleor CRM"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .ops.tracing import install_celery_hooks

        install_celery_hooks()

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
