"""Releasing due waves into the outbox: one statement per wave.

Each wave's statement decides, for every recipient of the wave at once, whether the message
may go (an address, not suppressed, marketing consent for the campaign's channel: the same
rules as ``messaging.services.enqueue``), picks the version in their language, inserts the
outbox rows (``skipped`` with the reason, or ``queued`` due now), links them to the step and
writes the ``crm.message.queued|skipped`` timeline entries. The sender then applies each
customer's send window and the frequency cap (a message due at night or too soon after
another one is deferred, never dropped) and checks consent again right before sending.

Exactly once: the outbox's dedupe key is ``campaign:<step>:<profile>`` (unique per store) and
the link row is unique per (step, profile), so a wave released twice (two workers, a retry
after a crash between the insert and the step's update) adds nothing. Due steps are claimed
with ``SKIP LOCKED``, so two workers never release the same step at once.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from ..messaging.services import CONSENT_PURPOSE
from ..profiles.sql import EMAIL_HASH
from . import content
from .models import Campaign, CampaignStatus, CampaignStep
from .services import wave_time

RELEASE = f"""
WITH people AS (
  SELECT p.id AS profile_id, p.tenant_id,
         CASE WHEN p.email = '' OR NOT p.is_active THEN 'no_address'
              WHEN EXISTS (
                SELECT 1 FROM crm_suppression x
                WHERE x.tenant_id = p.tenant_id
                  AND x.address_hash = {
    EMAIL_HASH.format(tenant="p.tenant_id", email="lower(trim(p.email))")
})
                THEN 'suppressed'
              WHEN NOT coalesce(
                (SELECT c.action = 'confirm' OR (c.action = 'grant' AND NOT c.needs_confirmation)
                 FROM crm_consent_entry c
                 WHERE c.profile_id = p.id AND c.purpose = %(purpose)s
                   AND c.channel IN (%(channel)s, '')
                 ORDER BY c.occurred_at DESC, c.id DESC LIMIT 1), false)
                THEN 'no_consent'
              ELSE '' END AS reason,
         {content.LOCALE_SQL} AS locale
  FROM crm_campaign_recipient r
  JOIN crm_profile p ON p.id = r.profile_id
  {content.LANG_SQL}
  WHERE r.campaign_id = %(campaign)s AND r.wave = %(wave)s
),
added AS (
  INSERT INTO crm_message (tenant_id, profile_id, channel, store_channel, purpose, kind, locale,
    context, dedupe_key, status, reason, created_at, due_at, attempts, provider_message_id,
    last_error)
  SELECT x.tenant_id, x.profile_id, %(via)s, %(channel)s, 'marketing', 'campaign', x.locale,
         jsonb_build_object('campaign', %(campaign)s, 'step', %(position)s,
           'subject', %(content)s::jsonb -> x.locale ->> 'subject',
           'body', %(content)s::jsonb -> x.locale ->> 'body'),
         'campaign:' || %(step)s || ':' || x.profile_id,
         CASE WHEN x.reason = '' THEN 'queued' ELSE 'skipped' END, x.reason,
         %(now)s, %(now)s, 0, '', ''
  FROM people x
  ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
  RETURNING *
),
linked AS (
  INSERT INTO crm_campaign_message (step_id, profile_id, message_id, wave)
  SELECT %(step)s, a.profile_id, a.id, %(wave)s FROM added a
  ON CONFLICT (step_id, profile_id) DO NOTHING
)
INSERT INTO crm_timeline (tenant_id, profile_id, kind, occurred_at, subject_id, data, dedupe_key)
SELECT a.tenant_id, a.profile_id, 'crm.message.' || a.status, %(now)s, a.id::text,
       jsonb_build_object('kind', a.kind, 'purpose', a.purpose, 'channel', a.channel,
         'locale', a.locale, 'due_at', a.due_at, 'reason', a.reason,
         'campaign', %(campaign)s, 'step', %(position)s),
       'message.' || a.status || ':' || a.id
FROM added a
ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
"""


def release_wave(campaign: Campaign, step: CampaignStep, wave: int, now: datetime) -> int:
    """Put one wave of one step in the outbox (one statement); returns how many messages it
    added (0 when it was released before)."""
    locales = list(step.content)
    params = {
        "campaign": campaign.pk,
        "step": step.pk,
        "position": step.position,
        "wave": wave,
        "now": now,
        "via": campaign.channel,
        "channel": campaign.store_channel,
        "purpose": CONSENT_PURPOSE,
        "locales": locales,
        "fallback": content.fallback(locales, campaign.store_channel) or locales[0],
        "content": json.dumps(step.content),
    }
    with connection.cursor() as cur:
        cur.execute(RELEASE, params)
        return cur.rowcount


def release_due(now: datetime | None = None, limit: int = 20) -> int:
    """Release the due wave of each due step, of up to ``limit`` campaigns; returns how many
    waves went out.

    One wave per step per run, and the next no sooner than ``wave_minutes`` later: the rate
    cap holds even when the workers were down for hours (the campaign then runs late, at its
    pace, rather than catching up in one flood). A campaign moves to ``sending`` with its
    first wave and to ``done`` once every wave of every step is released.
    """
    now = now or timezone.now()
    released = 0
    with transaction.atomic():
        # Campaigns first, in the order cancel_campaign locks them, so a cancel and a release
        # wait for each other instead of deadlocking; a campaign being cancelled is skipped
        # and seen cancelled next time.
        due = CampaignStep.objects.filter(next_release_at__lte=now).values("campaign_id")
        campaigns = {
            c.pk: c
            for c in Campaign.objects.select_for_update(skip_locked=True).filter(
                pk__in=due, status__in=(CampaignStatus.SCHEDULED, CampaignStatus.SENDING)
            )[:limit]
        }
        steps = list(
            CampaignStep.objects.select_for_update()
            .filter(campaign_id__in=list(campaigns), next_release_at__lte=now)
            .order_by("next_release_at", "id")
        )
        for step in steps:
            campaign = campaigns[step.campaign_id]
            if step.waves_released < step.waves_total:
                release_wave(campaign, step, step.waves_released, now)
                step.waves_released += 1
                released += 1
            # The next wave keeps to the plan, but never comes sooner than one interval after
            # this one: a worker that was down resumes at the campaign's pace, not all at once.
            step.next_release_at = (
                max(
                    wave_time(step, campaign, step.waves_released),
                    now + timedelta(minutes=campaign.wave_minutes),
                )
                if step.waves_released < step.waves_total
                else None
            )
            step.save(update_fields=["waves_released", "next_release_at"])
        for campaign in campaigns.values():
            _settle(campaign, now)
    return released


def _settle(campaign: Campaign, now: datetime) -> None:
    """``sending`` once a wave is out; ``done`` once nothing is left to release."""
    left = campaign.steps.filter(next_release_at__isnull=False).exists()
    campaign.status = CampaignStatus.SENDING if left else CampaignStatus.DONE
    if not left:
        campaign.finished_at = now
    campaign.updated_at = now
    campaign.save(update_fields=["status", "finished_at", "updated_at"])
