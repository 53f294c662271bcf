"""A campaign's verbs: save a draft, launch it (the audience snapshot), cancel it.

Launching is one ``INSERT ... SELECT`` from the target's membership, numbering recipients in
a fixed order and giving each its wave; the periodic release (``release.py``) then moves due
waves into the outbox. Every write here locks the campaign row first, so a launch and a
cancel arriving together happen one after the other, never half each.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction

from ..segments.models import Segment
from ..tenants.models import Tenant
from . import content
from .errors import CampaignError
from .models import Campaign, CampaignStatus, CampaignStep, TargetKind
from .types import CampaignInput

# Who is in the target now. Custom segments: their current stays; groups and stages: the
# scores of the last recompute (or inbox batch).
AUDIENCE = {
    TargetKind.SEGMENT: """
        SELECT m.profile_id FROM crm_segment_member m
        WHERE m.segment_id = %(segment)s AND m.left_at IS NULL""",
    TargetKind.RFM_GROUP: """
        SELECT s.profile_id FROM crm_customer_scores s
        WHERE s.tenant_id = %(tenant)s AND s.rfm_group = %(value)s""",
    TargetKind.STAGE: """
        SELECT s.profile_id FROM crm_customer_scores s
        WHERE s.tenant_id = %(tenant)s AND s.stage = %(value)s""",
}


def _locked(tenant: Tenant, campaign_id: int) -> Campaign:
    found = (
        Campaign.objects.select_for_update()
        .select_related("tenant")
        .filter(tenant=tenant, pk=campaign_id)
        .first()
    )
    if found is None:
        raise CampaignError("No such campaign.", code="NOT_FOUND", field="id")
    return found


def save_campaign(
    tenant: Tenant, data: CampaignInput, now: datetime, campaign_id: int | None = None
) -> Campaign:
    """Create a draft or change one (replacing its steps). Only drafts change: once launched,
    what customers get is fixed. Atomic; refused with ``CampaignError`` changing nothing."""
    steps = content.check(data)
    if (
        data.segment_id is not None
        and not Segment.objects.filter(tenant=tenant, pk=data.segment_id).exists()
    ):
        raise CampaignError("segmentId: no such segment.", code="NOT_FOUND", field="segmentId")
    with transaction.atomic():
        if campaign_id is None:
            campaign = Campaign(tenant=tenant, created_at=now)
        else:
            campaign = _locked(tenant, campaign_id)
            if campaign.status != CampaignStatus.DRAFT:
                raise CampaignError(
                    "Only a draft can be changed; this campaign is " + campaign.status + ".",
                    code="NOT_DRAFT",
                )
        campaign.name = data.name.strip()
        campaign.target_kind = data.target_kind
        campaign.segment_id = data.segment_id if data.target_kind == TargetKind.SEGMENT else None
        campaign.target_value = "" if data.target_kind == TargetKind.SEGMENT else data.target_value
        campaign.store_channel = data.store_channel
        campaign.wave_size = data.wave_size
        campaign.wave_minutes = data.wave_minutes
        campaign.updated_at = now
        campaign.save()
        campaign.steps.all().delete()
        CampaignStep.objects.bulk_create(
            CampaignStep(campaign=campaign, position=i + 1, **step) for i, step in enumerate(steps)
        )
    return campaign


def launch_campaign(tenant: Tenant, campaign_id: int, now: datetime) -> Campaign:
    """Take the audience snapshot and schedule the waves of every step.

    Recipients are numbered by profile id (a stable order, so a second look at the same
    snapshot gives the same waves) and recipient n is in wave n // wave_size; wave k of a step
    is due ``k * wave_minutes`` after the step's send time (now, for a send time already
    past). Refused (nothing changes) unless
    the campaign is a draft and its audience has someone in it. Atomic.
    """
    with transaction.atomic():
        campaign = _locked(tenant, campaign_id)
        if campaign.status != CampaignStatus.DRAFT:
            raise CampaignError(
                "This campaign was launched already (" + campaign.status + ").",
                code="NOT_DRAFT",
            )
        if campaign.target_kind == TargetKind.SEGMENT and campaign.segment_id is None:
            raise CampaignError(
                "Its segment was deleted; choose another one.", code="NO_SEGMENT", field="segmentId"
            )
        with connection.cursor() as cur:
            cur.execute(
                f"""
                INSERT INTO crm_campaign_recipient (campaign_id, profile_id, position, wave)
                SELECT %(campaign)s, a.profile_id, a.position,
                       CASE WHEN %(size)s::int IS NULL THEN 0 ELSE a.position / %(size)s::int END
                FROM (
                  SELECT t.profile_id, (row_number() OVER (ORDER BY t.profile_id) - 1) AS position
                  FROM ({AUDIENCE[TargetKind(campaign.target_kind)]}) t
                  JOIN crm_profile p ON p.id = t.profile_id AND p.tenant_id = %(tenant)s
                ) a
                """,
                {
                    "campaign": campaign.pk,
                    "tenant": tenant.pk,
                    "segment": campaign.segment_id,
                    "value": campaign.target_value,
                    "size": campaign.wave_size,
                },
            )
            audience = cur.rowcount
        if audience == 0:
            # Roll back and say so: a campaign launched to nobody would just look "done".
            raise CampaignError(
                "Nobody is in this audience now; nothing was launched.", code="EMPTY_AUDIENCE"
            )
        size = campaign.wave_size or audience
        waves = -(-audience // size)
        steps = list(campaign.steps.order_by("position"))
        for step in steps:
            # A send time already past means "now": its waves still keep the pace.
            step.send_at = max(step.send_at, now)
            step.waves_total, step.waves_released = waves, 0
            step.next_release_at = step.send_at
        CampaignStep.objects.bulk_update(
            steps, ["send_at", "waves_total", "waves_released", "next_release_at"]
        )
        first = steps[0].send_at if steps else now
        campaign.status = CampaignStatus.SCHEDULED if first > now else CampaignStatus.SENDING
        campaign.audience_count = audience
        campaign.launched_at = campaign.updated_at = now
        campaign.save(update_fields=["status", "audience_count", "launched_at", "updated_at"])
    return campaign


def cancel_campaign(tenant: Tenant, campaign_id: int, now: datetime) -> Campaign:
    """Stop a campaign: waves not yet released never will be, and its messages still waiting
    in the outbox (for a send window or the frequency cap) are skipped with the reason
    ``campaign_cancelled`` (on the customers' timelines). A message being sent at this moment
    goes. Cancelling a cancelled campaign changes nothing; a finished one can still have its
    waiting messages stopped. Atomic."""
    with transaction.atomic():
        campaign = _locked(tenant, campaign_id)
        if campaign.status == CampaignStatus.CANCELLED:
            return campaign
        campaign.steps.update(next_release_at=None)
        with connection.cursor() as cur:
            cur.execute(
                """
                WITH stopped AS (
                  UPDATE crm_message m SET status = 'skipped', reason = 'campaign_cancelled'
                  FROM crm_campaign_message cm
                  JOIN crm_campaign_step s ON s.id = cm.step_id
                  WHERE s.campaign_id = %(campaign)s AND m.id = cm.message_id
                    AND m.status = 'queued'
                  RETURNING m.*
                )
                INSERT INTO crm_timeline (tenant_id, profile_id, kind, occurred_at, subject_id,
                                          data, dedupe_key)
                SELECT tenant_id, profile_id, 'crm.message.skipped', %(now)s, id::text,
                       jsonb_build_object('kind', kind, 'purpose', purpose, 'channel', channel,
                         'locale', locale, 'due_at', due_at, 'reason', reason,
                         'campaign', %(campaign)s),
                       'message.skipped:' || id
                FROM stopped
                ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
                """,
                {"campaign": campaign.pk, "now": now},
            )
        campaign.status = CampaignStatus.CANCELLED
        campaign.cancelled_at = campaign.updated_at = now
        campaign.save(update_fields=["status", "cancelled_at", "updated_at"])
    return campaign


def wave_time(step: CampaignStep, campaign: Campaign, wave: int) -> datetime:
    """When wave ``wave`` (0-based) of a step is due."""
    return step.send_at + timedelta(minutes=campaign.wave_minutes * wave)
