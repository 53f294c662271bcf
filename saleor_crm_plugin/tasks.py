"""Every Celery task of the CRM, where a host's ``autodiscover_tasks()`` looks (``<app>.tasks``).

Inside Saleor, Saleor's own Celery app discovers this module, so its workers run our tasks.
"""

from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from celery.schedules import crontab

from .campaigns.tasks import release_campaign_waves
from .conf import crm_settings
from .feedback.tasks import request_feedback
from .inbox.tasks import drain_inbox, sweep_inbox
from .lifecycle.tasks import run_winback
from .loyalty.tasks import (
    apply_tiers,
    expire_points,
    grant_birthday_bonuses,
    remind_expiring_points,
)
from .messaging.tasks import send_due_messages
from .privacy.tasks import apply_retention
from .recovery.tasks import run_recovery
from .scaleout.tasks import create_partitions_ahead
from .segments.tasks import recompute_all

__all__ = [
    "apply_retention",
    "apply_tiers",
    "create_partitions_ahead",
    "drain_inbox",
    "expire_points",
    "grant_birthday_bonuses",
    "recompute_all",
    "release_campaign_waves",
    "remind_expiring_points",
    "request_feedback",
    "run_recovery",
    "run_winback",
    "send_due_messages",
    "sweep_inbox",
]


class BusinessDaily(crontab):
    """A crontab read on the store's clock (``CRM_STORE_TIME_ZONE``, the zone whose midnights
    bound the KPI days), whatever Celery's ``timezone`` says (Saleor leaves it at UTC).

    Daily jobs used to run every 24 hours of elapsed time; against the wall clock that drifts
    by an hour at each DST change (twice on one local date in autumn, none the next) and
    restarts at whatever hour beat was restarted. A fixed local hour runs once per local date.
    """

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(crm_settings.STORE_TIME_ZONE)

    def maybe_make_aware(self, dt: datetime, naive_as_utc: bool = True) -> datetime:
        return super().maybe_make_aware(dt, naive_as_utc=naive_as_utc).astimezone(self.tz)

    def to_local(self, dt: datetime) -> datetime:
        return dt.astimezone(self.tz)


# 04:00 local: no DST change in any zone happens then, so the hour exists exactly once a day.
DAILY = BusinessDaily(minute=0, hour=4)

PERIODIC: dict[str, dict[str, Any]] = {
    "crm-campaigns-release": {"task": "saleor_crm.campaigns.release", "schedule": 60.0},
    "crm-inbox-sweep": {"task": "saleor_crm.inbox.sweep", "schedule": 60.0},
    "crm-feedback-requests": {"task": "saleor_crm.feedback.request", "schedule": 3600.0},
    "crm-loyalty-tiers": {"task": "saleor_crm.loyalty.apply_tiers", "schedule": DAILY},
    "crm-loyalty-expiry": {"task": "saleor_crm.loyalty.expire_points", "schedule": DAILY},
    "crm-loyalty-birthdays": {"task": "saleor_crm.loyalty.birthdays", "schedule": DAILY},
    "crm-loyalty-expiry-reminders": {
        "task": "saleor_crm.loyalty.expiry_reminders",
        "schedule": DAILY,
    },
    "crm-messaging-send-due": {"task": "saleor_crm.messaging.send_due", "schedule": 60.0},
    "crm-lifecycle-winback": {"task": "saleor_crm.lifecycle.winback", "schedule": 3600.0},
    "crm-recovery": {"task": "saleor_crm.recovery.run", "schedule": 300.0},
    "crm-segments-recompute": {"task": "saleor_crm.segments.recompute", "schedule": DAILY},
    "crm-privacy-retention": {"task": "saleor_crm.privacy.retention", "schedule": DAILY},
    "crm-scaleout-partitions": {"task": "saleor_crm.scaleout.partitions", "schedule": DAILY},
}
