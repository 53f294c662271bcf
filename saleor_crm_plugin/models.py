"""Every table of the app, imported from the capability that owns it (Django finds them here)."""

from .backfill.models import BackfillCursor
from .catalogue.models import Product
from .inbox.models import Delivery, DeliveryState
from .loyalty.models import EarningProgram, PointsEntry
from .messaging.models import Message, Suppression
from .money.models import FxRate
from .payments.models import Membership, StripeAccount, StripeCharge, StripeDispute
from .privacy.models import ConsentEntry
from .profiles.models import CheckoutRecord, DeletedCustomer, OrderRecord, Profile, TimelineEntry
from .recovery.models import RecoveryFlow, RecoveryStep
from .segments.models import (
    CustomerScores,
    LifecycleSettings,
    ScoreBoundaries,
    Segment,
    SegmentMember,
)
from .service.models import Note, ServiceCase, Tag
from .tenants.models import Tenant
from .tracking.models import TrackedEvent

__all__ = [
    "BackfillCursor",
    "CheckoutRecord",
    "ConsentEntry",
    "CustomerScores",
    "DeletedCustomer",
    "Delivery",
    "DeliveryState",
    "EarningProgram",
    "FxRate",
    "LifecycleSettings",
    "Membership",
    "Message",
    "Note",
    "OrderRecord",
    "PointsEntry",
    "Product",
    "Profile",
    "RecoveryFlow",
    "RecoveryStep",
    "ScoreBoundaries",
    "Segment",
    "SegmentMember",
    "ServiceCase",
    "StripeAccount",
    "StripeCharge",
    "StripeDispute",
    "Suppression",
    "Tag",
    "Tenant",
    "TimelineEntry",
    "TrackedEvent",
]
