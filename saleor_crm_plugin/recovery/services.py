"""Finding abandoned carts, moving flows along, stopping them and attributing recovered orders.

Everything here is set-based and driven by two partial indexes: abandoned candidates are a range
of recently changed, uncompleted checkouts (``crm_checkout_open``), and due steps a range of
active flows' due times (``crm_recovery_due``). Neither scan looks at old checkouts or old
flows, so their cost does not grow with the store's history.

A flow never depends on deliveries arriving in order: starting, refreshing and stopping are
decided from the stored newest state of checkouts and orders, and every write is guarded so a
second run of the same decision changes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from ..conf import crm_settings
from ..profiles.events import NOT_PURCHASES
from ..tenants.models import Tenant
from .models import FlowStatus, RecoveryFlow, RecoveryStep

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    """When reminders go out: hours after the cart's last change, per channel."""

    default: tuple[int, ...] = (1, 24, 72)
    channels: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    disabled: frozenset[str] = frozenset()

    def delays_for(self, channel: str) -> tuple[int, ...]:
        return tuple(self.channels.get(channel, self.default))

    @property
    def shortest(self) -> int:
        return min(d[0] for d in (self.default, *self.channels.values()))

    @property
    def longest(self) -> int:
        return max(d[-1] for d in (self.default, *self.channels.values()))


@dataclass(frozen=True)
class DueStep:
    """A reminder to send now, with everything the message needs (no second read)."""

    flow_id: int
    tenant_id: int
    profile_id: int
    kind: str  # "checkout" or "browse"
    step: int
    last: bool
    checkout_id: str
    channel: str
    currency: str
    lines: list[Any]  # a cart's lines, or a browse flow's product ids
    total_gross_minor: int
    due_at: datetime
    at: datetime  # the moment of this run (the clock the message is queued by)


# A skip reason that only pauses a flow (the customer's open service case): it goes on.
PAUSING_REASON = "open_case"

# The most recently viewed products a browse reminder shows.
BROWSE_PRODUCTS = 4

# What a sender answers for a step: ("queued" | "sent" | "skipped", reason, message id).
# "queued" waits for the customer's send window or the frequency cap; "skipped" is final.
Outcome = tuple[str, str, str]
Sender = Callable[[DueStep], Outcome]

# How long a step waits before it is tried again when its sender could not finish it now.
RETRY_AFTER = timedelta(minutes=15)


class TryLater(Exception):
    """A sender cannot hand over the step now (e.g. Saleor did not create its voucher): nothing
    of the step is kept, and the flow tries again after ``RETRY_AFTER``."""


def start_flows(tenant: Tenant, schedule: Schedule, now: datetime | None = None) -> int:
    """Start a flow for every customer whose newest cart has been left alone long enough.

    A candidate has an e-mail, lines and a total, is neither paid nor completed, and is newer
    than any cart a flow already covered (so a finished flow never starts again for the same
    cart) and than the customer's last order (they bought on another device). A customer with
    an active flow keeps it: a newer abandoned cart replaces the snapshot, and the next step
    counts from that cart's last change. Returns how many flows started.
    """
    moment = now or timezone.now()
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "now": moment,
        "since": moment - timedelta(hours=schedule.longest),
        "until": moment - timedelta(hours=schedule.shortest),
        "per_channel": json.dumps({k: list(v) for k, v in schedule.channels.items()}),
        "default": json.dumps(list(schedule.default)),
        "disabled": sorted(schedule.disabled),
        "not_purchases": list(NOT_PURCHASES),
    }
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO crm_recovery_flow AS f (tenant_id, profile_id, kind, checkout_id,
              channel, currency, lines, total_gross_minor, checkout_updated_at, delays_hours,
              step, next_due_at, status, stop_reason, started_at)
            SELECT DISTINCT ON (c.profile_id) c.tenant_id, c.profile_id, 'checkout', c.checkout_id,
              c.channel, c.currency, c.lines, c.total_gross_minor, c.updated_at, s.delays, 0,
              c.updated_at + make_interval(hours => s.delays[1]), 'active', '', %(now)s
            FROM crm_checkout c
            CROSS JOIN LATERAL (
              SELECT ARRAY(
                SELECT jsonb_array_elements_text(
                  coalesce(%(per_channel)s::jsonb -> c.channel, %(default)s::jsonb))::int
              ) AS delays
            ) s
            WHERE c.tenant_id = %(tenant)s AND c.completed_order_id IS NULL
              AND c.updated_at > %(since)s AND c.updated_at <= %(until)s
              AND c.paid_at IS NULL AND c.email <> '' AND c.profile_id IS NOT NULL
              AND c.total_gross_minor > 0 AND jsonb_array_length(c.lines) > 0
              AND c.channel <> ALL(%(disabled)s::text[])
              AND c.updated_at + make_interval(hours => s.delays[1]) <= %(now)s
              AND NOT EXISTS (
                SELECT 1 FROM crm_order o
                WHERE o.profile_id = c.profile_id AND o.created_at >= c.updated_at
                  AND o.status <> ALL(%(not_purchases)s::text[]))
              AND NOT EXISTS (
                SELECT 1 FROM crm_recovery_flow p
                WHERE p.profile_id = c.profile_id AND p.kind = 'checkout'
                  AND p.checkout_updated_at >= c.updated_at)
            ORDER BY c.profile_id, c.updated_at DESC
            ON CONFLICT (tenant_id, profile_id) WHERE status = 'active' DO UPDATE SET
              kind = 'checkout', checkout_id = EXCLUDED.checkout_id, channel = EXCLUDED.channel,
              currency = EXCLUDED.currency, lines = EXCLUDED.lines,
              total_gross_minor = EXCLUDED.total_gross_minor,
              checkout_updated_at = EXCLUDED.checkout_updated_at,
              -- A waiting browse reminder gives way to the cart's own schedule.
              delays_hours = CASE WHEN f.kind = 'browse' THEN EXCLUDED.delays_hours
                                  ELSE f.delays_hours END,
              step = CASE WHEN f.kind = 'browse' THEN 0 ELSE f.step END,
              next_due_at = CASE WHEN f.kind = 'browse' THEN EXCLUDED.next_due_at
                                 ELSE EXCLUDED.checkout_updated_at
                                      + make_interval(hours => f.delays_hours[f.step + 1]) END
            WHERE f.kind = 'browse' OR EXCLUDED.checkout_updated_at > f.checkout_updated_at
            RETURNING (xmax = 0)
            """,
            params,
        )
        started = sum(1 for (inserted,) in cur.fetchall() if inserted)
        _timeline_started(cur, tenant.pk, moment)
    return started


def start_browse_flows(
    tenant: Tenant, disabled: frozenset[str] = frozenset(), now: datetime | None = None
) -> int:
    """One reminder for a known customer who viewed products, then stopped, and neither put
    anything in a cart nor bought since (``CRM_BROWSE_REMINDER_HOURS`` after the last view).

    At most one browse reminder per ``CRM_BROWSE_REMINDER_EVERY_DAYS``, and none while or soon
    after any other flow: a cart reminder always takes precedence, and a cart appearing later
    takes a waiting browse flow over. Only views of customers who allowed tracking exist.
    Returns how many flows started.
    """
    delay = crm_settings.BROWSE_REMINDER_HOURS
    if delay <= 0:
        return 0
    moment = now or timezone.now()
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "now": moment,
        "delay": delay,
        "since": moment - timedelta(hours=delay + 24),
        "until": moment - timedelta(hours=delay),
        "quiet_since": moment - timedelta(days=crm_settings.BROWSE_REMINDER_EVERY_DAYS),
        "most": BROWSE_PRODUCTS,
        "disabled": sorted(disabled),
        "not_purchases": list(NOT_PURCHASES),
    }
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            """
            WITH views AS (
              SELECT e.profile_id, e.subject_id, max(e.occurred_at) AS at,
                     min(e.occurred_at) AS first_at,
                     (array_agg(e.channel ORDER BY e.occurred_at DESC))[1] AS channel
              FROM crm_tracked_event e
              WHERE e.tenant_id = %(tenant)s AND e.kind = 'product_viewed'
                AND e.profile_id IS NOT NULL AND e.occurred_at > %(since)s
                AND e.subject_id <> ''
              GROUP BY e.profile_id, e.subject_id
            ),
            people AS (
              SELECT profile_id, max(at) AS last_view, min(first_at) AS first_view,
                     (array_agg(channel ORDER BY at DESC))[1] AS channel,
                     (array_agg(subject_id ORDER BY at DESC))[1:%(most)s] AS products
              FROM views GROUP BY profile_id
            )
            INSERT INTO crm_recovery_flow (tenant_id, profile_id, kind, checkout_id, channel,
              currency, lines, total_gross_minor, checkout_updated_at, delays_hours, step,
              next_due_at, status, stop_reason, started_at)
            SELECT %(tenant)s, v.profile_id, 'browse', '', v.channel, '',
                   to_jsonb(v.products), 0, v.last_view, ARRAY[%(delay)s]::int[], 0,
                   v.last_view + make_interval(hours => %(delay)s), 'active', '', %(now)s
            FROM people v
            JOIN crm_profile pr ON pr.id = v.profile_id AND pr.email <> ''
            WHERE v.last_view <= %(until)s AND v.channel <> ALL(%(disabled)s::text[])
              AND NOT EXISTS (
                SELECT 1 FROM crm_order o
                WHERE o.profile_id = v.profile_id AND o.created_at >= v.first_view
                  AND o.status <> ALL(%(not_purchases)s::text[]))
              AND NOT EXISTS (
                SELECT 1 FROM crm_checkout c
                WHERE c.profile_id = v.profile_id AND c.completed_order_id IS NULL
                  AND jsonb_array_length(c.lines) > 0 AND c.updated_at >= v.first_view)
              AND NOT EXISTS (
                SELECT 1 FROM crm_recovery_flow p
                WHERE p.profile_id = v.profile_id
                  AND (p.status = 'active' OR p.started_at > %(quiet_since)s))
            ON CONFLICT (tenant_id, profile_id) WHERE status = 'active' DO NOTHING
            RETURNING id
            """,
            params,
        )
        started = len(cur.fetchall())
        _timeline_started(cur, tenant.pk, moment)
    return started


def _timeline_started(cur: CursorWrapper, tenant_id: int, moment: datetime) -> None:
    cur.execute(
        """
        INSERT INTO crm_timeline (tenant_id, profile_id, kind, occurred_at, subject_id, data,
                                  dedupe_key)
        SELECT f.tenant_id, f.profile_id, 'crm.recovery.started', f.started_at, f.checkout_id,
               jsonb_build_object('flow', f.kind, 'channel', f.channel, 'steps',
                                  cardinality(f.delays_hours)),
               'recovery.started:' || f.id
        FROM crm_recovery_flow f
        WHERE f.tenant_id = %s AND f.started_at = %s
        ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
        """,
        [tenant_id, moment],
    )


def run_due_steps(
    tenant: Tenant, send: Sender, now: datetime | None = None, limit: int = 500
) -> int:
    """Hand every due step to ``send`` once, then move its flow to the next step.

    Due flows are claimed with ``SKIP LOCKED``, so two workers never take the same flow, and
    the step row is unique per flow: a worker that dies after recording a step but before
    advancing leaves a row that makes the retry skip the send. Flows whose customer ordered
    or emptied the cart since are ended first, so no reminder follows a purchase. Returns how
    many steps were handed over.
    """
    moment = now or timezone.now()
    follow_checkouts(tenant, None)
    handed = 0
    with transaction.atomic():
        flows = list(
            RecoveryFlow.objects.select_for_update(skip_locked=True)
            .filter(tenant=tenant, status=FlowStatus.ACTIVE, next_due_at__lte=moment)
            .order_by("next_due_at")[:limit]
        )
        for flow in flows:
            step = DueStep(
                flow_id=flow.pk,
                tenant_id=flow.tenant_id,
                profile_id=flow.profile_id,
                kind=flow.kind,
                step=flow.step,
                last=flow.step + 1 >= len(flow.delays_hours),
                checkout_id=flow.checkout_id,
                channel=flow.channel,
                currency=flow.currency,
                lines=list(flow.lines),
                total_gross_minor=flow.total_gross_minor,
                due_at=flow.next_due_at or moment,
                at=moment,
            )
            try:
                # A savepoint per flow: a step its sender cannot finish now leaves nothing
                # behind (no step row, no message) and the other flows go on.
                with transaction.atomic():
                    record, created = RecoveryStep.objects.get_or_create(
                        flow=flow,
                        step=flow.step,
                        defaults={"due_at": step.due_at, "enqueued_at": moment},
                    )
                    if created:
                        outcome, reason, message_id = send(step)
                        record.refresh_from_db()  # the sender may have noted a discount
                        record.outcome, record.reason = outcome, reason
                        record.message_id = int(message_id) if message_id.isdigit() else None
                        if outcome == "sent":
                            record.sent_at = moment
                        record.save(update_fields=["outcome", "reason", "message", "sent_at"])
                        handed += 1
            except TryLater as exc:
                log.warning("recovery flow %s step %s retried later: %s", flow.pk, flow.step, exc)
                flow.next_due_at = moment + RETRY_AFTER
                flow.save(update_fields=["next_due_at"])
                continue
            # A reminder the messaging refused for good (no consent, unsubscribed, suppressed)
            # ends the flow: later steps would be refused for the same reason. An open service
            # case only pauses it: this step is skipped, later ones go once the case is resolved.
            stop = record.reason or "skipped" if record.outcome == "skipped" else ""
            stop = "" if stop == PAUSING_REASON else stop
            _advance(flow, moment, stop_reason=stop)
    return handed


def _advance(flow: RecoveryFlow, moment: datetime, stop_reason: str = "") -> None:
    if stop_reason:
        flow.status, flow.stop_reason, flow.ended_at, flow.next_due_at = (
            FlowStatus.STOPPED,
            stop_reason,
            moment,
            None,
        )
    elif flow.step + 1 >= len(flow.delays_hours):
        flow.step += 1
        flow.status, flow.ended_at, flow.next_due_at = FlowStatus.FINISHED, moment, None
    else:
        flow.step += 1
        flow.next_due_at = flow.checkout_updated_at + timedelta(hours=flow.delays_hours[flow.step])
    flow.save(update_fields=["step", "status", "stop_reason", "ended_at", "next_due_at"])


def follow_orders(tenant: Tenant, order_ids: Iterable[str]) -> None:
    """Orders just applied end their customers' flows, and are attributed to a reminder.

    An order placed after a reminder reached the customer, within the attribution window of
    that reminder, recovers the flow: the flow records the order, its amount (in the order's
    currency and the base currency) and the last reminder sent before it. An order placed
    before any reminder went out just stops the flow. Any checkout, any device: the customer,
    not the cart, is what matters. Runs inside the apply transaction.
    """
    ids = sorted(set(order_ids))
    if not ids:
        return
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "ids": ids,
        "window": crm_settings.RECOVERY_ATTRIBUTION_DAYS,
        "not_purchases": list(NOT_PURCHASES),
    }
    with connection.cursor() as cur:
        cur.execute(
            """
            WITH o AS (
              SELECT order_id, profile_id, created_at, total_gross_minor, total_gross_base_minor
              FROM crm_order
              WHERE tenant_id = %(tenant)s AND order_id = ANY(%(ids)s)
                AND profile_id IS NOT NULL AND status <> ALL(%(not_purchases)s::text[])
            ),
            hit AS (
              SELECT DISTINCT ON (f.id) f.id AS flow_id, o.order_id, o.created_at,
                     o.total_gross_minor, o.total_gross_base_minor, s.step
              FROM o
              JOIN crm_recovery_flow f ON f.profile_id = o.profile_id
                AND f.status IN ('active', 'finished') AND f.recovered_order_id IS NULL
              JOIN crm_recovery_step s ON s.flow_id = f.id
              LEFT JOIN crm_message m ON m.id = s.message_id
              CROSS JOIN LATERAL (SELECT coalesce(s.sent_at, m.sent_at) AS at) sent
              WHERE sent.at <= o.created_at
                AND o.created_at <= sent.at + make_interval(days => %(window)s)
              ORDER BY f.id, o.created_at, s.step DESC
            )
            UPDATE crm_recovery_flow f SET status = 'recovered', next_due_at = NULL,
              ended_at = coalesce(f.ended_at, hit.created_at), recovered_order_id = hit.order_id,
              recovered_step = hit.step, recovered_minor = hit.total_gross_minor,
              recovered_base_minor = hit.total_gross_base_minor
            FROM hit WHERE f.id = hit.flow_id
            RETURNING f.profile_id, f.id, hit.order_id, hit.created_at, hit.step
            """,
            params,
        )
        recovered = cur.fetchall()
        cur.execute(
            """
            UPDATE crm_recovery_flow f SET status = 'stopped', stop_reason = 'ordered',
              next_due_at = NULL, ended_at = o.created_at
            FROM (
              SELECT DISTINCT ON (profile_id) profile_id, created_at FROM crm_order
              WHERE tenant_id = %(tenant)s AND order_id = ANY(%(ids)s)
                AND profile_id IS NOT NULL AND status <> ALL(%(not_purchases)s::text[])
              ORDER BY profile_id, created_at
            ) o
            WHERE f.tenant_id = %(tenant)s AND f.profile_id = o.profile_id
              AND f.status = 'active' AND o.created_at >= f.checkout_updated_at
            """,
            params,
        )
        _timeline_recovered(cur, tenant.pk, recovered)


def _timeline_recovered(cur: CursorWrapper, tenant_id: int, rows: Sequence[tuple]) -> None:
    if not rows:
        return
    cur.execute(
        """
        INSERT INTO crm_timeline (tenant_id, profile_id, kind, occurred_at, subject_id, data,
                                  dedupe_key)
        SELECT %s, r.profile_id, 'crm.recovery.recovered', r.at, r.order_id,
               jsonb_build_object('step', r.step + 1), 'recovery.recovered:' || r.flow_id
        FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::timestamptz[], %s::int[])
          AS r(profile_id, flow_id, order_id, at, step)
        ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
        """,
        [tenant_id, *map(list, zip(*rows, strict=True))],
    )


def follow_checkouts(tenant: Tenant, checkout_ids: Iterable[str] | None) -> None:
    """Flows follow their carts: a newer open cart of the customer replaces the snapshot (the
    next reminder counts from its last change), and an emptied cart ends the flow.

    ``None`` checks every active flow of the store (before sending due steps).
    """
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "ids": None if checkout_ids is None else sorted(set(checkout_ids)),
    }
    scope = "" if checkout_ids is None else "AND c.checkout_id = ANY(%(ids)s)"
    with connection.cursor() as cur:
        cur.execute(
            f"""
            UPDATE crm_recovery_flow f SET status = 'stopped', stop_reason = 'emptied',
              next_due_at = NULL, ended_at = c.updated_at
            FROM crm_checkout c
            WHERE f.tenant_id = %(tenant)s AND f.status = 'active'
              AND c.tenant_id = f.tenant_id AND c.checkout_id = f.checkout_id {scope}
              AND jsonb_array_length(c.lines) = 0 AND c.updated_at > f.checkout_updated_at
            """,
            params,
        )
        cur.execute(
            f"""
            UPDATE crm_recovery_flow f SET checkout_id = n.checkout_id, channel = n.channel,
              currency = n.currency, lines = n.lines, total_gross_minor = n.total_gross_minor,
              checkout_updated_at = n.updated_at,
              next_due_at = n.updated_at + make_interval(hours => f.delays_hours[f.step + 1])
            FROM (
              SELECT DISTINCT ON (c.profile_id) c.profile_id, c.checkout_id, c.channel,
                     c.currency, c.lines, c.total_gross_minor, c.updated_at
              FROM crm_checkout c
              JOIN crm_recovery_flow a ON a.profile_id = c.profile_id AND a.status = 'active'
              WHERE c.tenant_id = %(tenant)s {scope} AND c.completed_order_id IS NULL
                AND c.paid_at IS NULL AND jsonb_array_length(c.lines) > 0
                AND c.total_gross_minor > 0 AND c.updated_at > a.checkout_updated_at
              ORDER BY c.profile_id, c.updated_at DESC
            ) n
            WHERE f.tenant_id = %(tenant)s AND f.status = 'active'
              AND f.profile_id = n.profile_id
            """,
            params,
        )
