"""Timeline entries of the consent ledger."""

from __future__ import annotations

from ..profiles.models import TimelineEntry
from .models import ConsentEntry


def consent_changed(entry: ConsentEntry) -> None:
    """``crm.consent.granted`` / ``confirmed`` / ``withdrawn`` on the customer's timeline."""
    past = {"grant": "granted", "confirm": "confirmed", "withdraw": "withdrawn"}[entry.action]
    TimelineEntry.objects.create(
        tenant_id=entry.tenant_id,
        profile_id=entry.profile_id,
        kind=f"crm.consent.{past}",
        occurred_at=entry.occurred_at,
        subject_id=entry.purpose,
        data={
            "purpose": entry.purpose,
            "channel": entry.channel,
            "source": entry.source,
            "jurisdiction": entry.jurisdiction,
            "wording_version": entry.wording_version,
        },
        dedupe_key=f"consent:{entry.pk}",
    )
