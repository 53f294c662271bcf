"""Every table of the app, imported from the capability that owns it (Django finds them here)."""

from .backfill.models import BackfillCursor
from .inbox.models import Delivery, DeliveryState
from .loyalty.models import PointsEntry
from .messaging.models import Message, Suppression
from .money.models import FxRate
from .privacy.models import ConsentEntry
from .profiles.models import CheckoutRecord, DeletedCustomer, OrderRecord, Profile, TimelineEntry
from .tenants.models import Tenant
from .tracking.models import TrackedEvent

__all__ = [
    "BackfillCursor",
    "CheckoutRecord",
    "ConsentEntry",
    "DeletedCustomer",
    "Delivery",
    "DeliveryState",
    "FxRate",
    "Message",
    "OrderRecord",
    "PointsEntry",
    "Profile",
    "Suppression",
    "Tenant",
    "TimelineEntry",
    "TrackedEvent",
]
