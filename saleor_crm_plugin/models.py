"""Every table of the app, imported from the capability that owns it (Django finds them here)."""

from .backfill.models import BackfillCursor
from .campaigns.models import Campaign, CampaignMessage, CampaignRecipient, CampaignStep
from .catalogue.models import Product
from .feedback.models import Feedback
from .inbox.models import Delivery, DeliveryState
from .loyalty.models import EarningProgram, PointsEntry
from .messaging.models import ChannelAccount, Message, Suppression
from .money.models import FxRate
from .ops.models import Counter
from .payments.models import Membership, StripeAccount, StripeCharge, StripeDispute
from .predictions.models import (
    CategoryAffinity,
    CategoryBestseller,
    CustomerPrediction,
    PredictionModel,
    ProductPair,
)
from .privacy.models import ConsentEntry
from .profiles.models import (
    CheckoutRecord,
    DeletedCustomer,
    OrderRecord,
    PendingScrub,
    Profile,
    TimelineEntry,
)
from .recovery.models import RecoveryFlow, RecoveryStep
from .segments.models import (
    CustomerScores,
    LifecycleSettings,
    ScoreBoundaries,
    Segment,
    SegmentMember,
    StageChange,
    StageHistoryStart,
)
from .service.models import Note, ServiceCase, Tag
from .tenants.models import Tenant
from .tracking.models import TrackedEvent

__all__ = [
    "BackfillCursor",
    "Campaign",
    "CampaignMessage",
    "CampaignRecipient",
    "CampaignStep",
    "CategoryAffinity",
    "CategoryBestseller",
    "ChannelAccount",
    "CheckoutRecord",
    "ConsentEntry",
    "Counter",
    "CustomerPrediction",
    "CustomerScores",
    "DeletedCustomer",
    "Delivery",
    "DeliveryState",
    "EarningProgram",
    "Feedback",
    "FxRate",
    "LifecycleSettings",
    "Membership",
    "Message",
    "Note",
    "OrderRecord",
    "PendingScrub",
    "PointsEntry",
    "PredictionModel",
    "Product",
    "ProductPair",
    "Profile",
    "RecoveryFlow",
    "RecoveryStep",
    "ScoreBoundaries",
    "Segment",
    "SegmentMember",
    "ServiceCase",
    "StageChange",
    "StageHistoryStart",
    "StripeAccount",
    "StripeCharge",
    "StripeDispute",
    "Suppression",
    "Tag",
    "Tenant",
    "TimelineEntry",
    "TrackedEvent",
]
