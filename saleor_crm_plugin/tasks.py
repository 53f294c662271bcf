"""Every Celery task of the CRM, where a host's ``autodiscover_tasks()`` looks (``<app>.tasks``).

Inside Saleor, Saleor's own Celery app discovers this module, so its workers run our tasks.
"""

from .campaigns.tasks import release_campaign_waves
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
from .segments.tasks import recompute_all

__all__ = [
    "apply_retention",
    "apply_tiers",
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

PERIODIC = {
    "crm-campaigns-release": {"task": "saleor_crm.campaigns.release", "schedule": 60.0},
    "crm-inbox-sweep": {"task": "saleor_crm.inbox.sweep", "schedule": 60.0},
    "crm-feedback-requests": {"task": "saleor_crm.feedback.request", "schedule": 3600.0},
    "crm-loyalty-tiers": {"task": "saleor_crm.loyalty.apply_tiers", "schedule": 24 * 3600.0},
    "crm-loyalty-expiry": {"task": "saleor_crm.loyalty.expire_points", "schedule": 24 * 3600.0},
    "crm-loyalty-birthdays": {"task": "saleor_crm.loyalty.birthdays", "schedule": 24 * 3600.0},
    "crm-loyalty-expiry-reminders": {
        "task": "saleor_crm.loyalty.expiry_reminders",
        "schedule": 24 * 3600.0,
    },
    "crm-messaging-send-due": {"task": "saleor_crm.messaging.send_due", "schedule": 60.0},
    "crm-lifecycle-winback": {"task": "saleor_crm.lifecycle.winback", "schedule": 3600.0},
    "crm-recovery": {"task": "saleor_crm.recovery.run", "schedule": 300.0},
    "crm-segments-recompute": {"task": "saleor_crm.segments.recompute", "schedule": 24 * 3600.0},
    "crm-privacy-retention": {"task": "saleor_crm.privacy.retention", "schedule": 24 * 3600.0},
}
