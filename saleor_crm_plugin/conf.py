"""Every CRM setting in one place, read lazily from ``django.conf.settings`` under ``CRM_``.

Lazy properties (as in allauth's ``app_settings``) make ``override_settings`` work in tests and
let the same code run inside Saleor's settings or the standalone project's.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from django.conf import settings


def _default_workers() -> int:
    return min(4, (os.cpu_count() or 1) - 1)


class CRMSettings:
    prefix = "CRM_"

    def _get(self, name: str, default: Any) -> Any:
        return getattr(settings, self.prefix + name, default)

    @property
    def BASE_CURRENCY(self) -> str:
        """Currency every profile's spend is reported in, for tenants that set none of their own."""
        return str(self._get("BASE_CURRENCY", "USD")).upper()

    @property
    def CHANNEL_TIME_ZONES(self) -> dict[str, str]:
        """Channel slug -> IANA time zone, for customers whose country we do not know yet.

        Saleor's payloads name the channel but not its time zone, so the merchant tells us.
        """
        return dict(self._get("CHANNEL_TIME_ZONES", {}))

    @property
    def ALLOWED_SALEOR_API_URLS(self) -> list[str]:
        """Saleor API URLs allowed to install the app; empty means any Saleor may install it."""
        return list(self._get("ALLOWED_SALEOR_API_URLS", []))

    @property
    def VERIFY_APP_TOKEN(self) -> bool:
        """Check a registering token against Saleor's API before storing it."""
        return bool(self._get("VERIFY_APP_TOKEN", True))

    @property
    def MAX_WEBHOOK_BODY_BYTES(self) -> int:
        """Largest webhook body we read; Saleor's order payloads are tens of kilobytes."""
        return int(self._get("MAX_WEBHOOK_BODY_BYTES", 2 * 1024 * 1024))

    @property
    def JWKS_REFETCH_SECONDS(self) -> int:
        """Minimum gap between JWKS fetches for one Saleor, so forged ``kid``s cannot flood it."""
        return int(self._get("JWKS_REFETCH_SECONDS", 60))

    @property
    def HTTP_TIMEOUT_SECONDS(self) -> float:
        """Timeout for calls to Saleor (JWKS, GraphQL); the webhook view must stay fast."""
        return float(self._get("HTTP_TIMEOUT_SECONDS", 5.0))

    @property
    def WEBHOOK_DB_TIMEOUT_MS(self) -> int:
        """How long storing a delivery may wait on the database before we answer 503."""
        return int(self._get("WEBHOOK_DB_TIMEOUT_MS", 3000))

    @property
    def WEBHOOK_DOOR_CONNECTIONS(self) -> int:
        """Group commits in flight at once per ``serve`` worker (each on its own connection,
        besides Django's pool). One by default: deliveries that arrive during a commit all go
        into the next, and each statement costs the worker about as much Python as eight more
        rows in it, so fewer, fuller commits are what lets a worker accept more per second."""
        return max(1, int(self._get("WEBHOOK_DOOR_CONNECTIONS", 1)))

    @property
    def WEBHOOK_GROUP_COMMIT_MAX(self) -> int:
        """Most deliveries the async door stores in one INSERT and commit."""
        return max(1, int(self._get("WEBHOOK_GROUP_COMMIT_MAX", 256)))

    @property
    def PLUGIN_HOOK_TIMEOUT_MS(self) -> int:
        """How long a plugin hook may wait on the CRM's database inside Saleor's request before
        it leaves the event to the spool. A healthy insert takes about a millisecond; 250 ms
        rides out a busy moment and stays unnoticeable to a shopper (paid once per outage)."""
        return int(self._get("PLUGIN_HOOK_TIMEOUT_MS", 250))

    @property
    def PLUGIN_SPOOL_LIMIT(self) -> int:
        """Most hook events a web process keeps in memory while the CRM's database is failing;
        beyond it each further event is logged as lost (``saleor-crm backfill`` recovers it)."""
        return int(self._get("PLUGIN_SPOOL_LIMIT", 10_000))

    @property
    def METRICS_TOKEN(self) -> str:
        """Bearer token ``GET /metrics`` requires; empty leaves the endpoint open (keep it
        on a private network then). Compared in constant time."""
        return str(self._get("METRICS_TOKEN", ""))

    @property
    def LOG_FORMAT(self) -> str:
        """``json`` for one JSON object per log line (the standalone project's ``LOGGING``
        reads ``CRM_LOG_FORMAT`` from the environment), anything else for plain text."""
        return str(self._get("LOG_FORMAT", "plain"))

    @property
    def ANALYTICS_DATABASE(self) -> str:
        """Django database alias the heavy read-only analytics run on (KPI reports, cohorts,
        currency exposure, segment previews, members and exports), e.g. a streaming replica
        (Saleor names its own ``replica``). Those figures then trail the primary by the
        replica's lag; nothing is ever written there. Default: the primary (``default``)."""
        return str(self._get("ANALYTICS_DATABASE", "default"))

    @property
    def PARTITION_MONTHS_AHEAD(self) -> int:
        """Monthly partitions kept ready ahead of the current month for tables converted with
        ``saleor-crm partition`` (the daily beat task creates them)."""
        return int(self._get("PARTITION_MONTHS_AHEAD", 3))

    @property
    def INBOX_DISPATCH(self) -> str:
        """How accepted deliveries get applied: ``celery`` (a worker; the default with a broker),
        ``thread`` (a background thread in this process; the default without one), ``eager``
        (inside the request, after commit: deterministic, for tests) or ``external`` (another
        process runs ``saleor-crm drain --follow``)."""
        default = "celery" if getattr(settings, "CELERY_BROKER_URL", "") else "thread"
        mode = str(self._get("INBOX_DISPATCH", default))
        return mode if mode in ("celery", "thread", "eager", "external") else default

    @property
    def LOYALTY_POINTS_PER_UNIT(self) -> Decimal:
        """Points a customer earns per whole unit of the base currency spent (e.g. 1 per EUR)."""
        return Decimal(str(self._get("LOYALTY_POINTS_PER_UNIT", "1")))

    @property
    def LOYALTY_POINT_VALUE(self) -> Decimal:
        """What one point is worth in the base currency when redeemed (e.g. 0.01 EUR)."""
        return Decimal(str(self._get("LOYALTY_POINT_VALUE", "0.01")))

    @property
    def LOYALTY_SIGNUP_BONUS(self) -> int:
        """Points for creating an account (0: none)."""
        return int(self._get("LOYALTY_SIGNUP_BONUS", 0))

    @property
    def LOYALTY_FIRST_ORDER_BONUS(self) -> int:
        """Points on top of what a customer's first order earns (0: none)."""
        return int(self._get("LOYALTY_FIRST_ORDER_BONUS", 0))

    @property
    def LOYALTY_EXPIRY_DAYS(self) -> int:
        """Days after it becomes available that a lot of points expires, first in, first out
        (0: points do not expire by age)."""
        return int(self._get("LOYALTY_EXPIRY_DAYS", 0))

    @property
    def LOYALTY_INACTIVITY_DAYS(self) -> int:
        """Days without an order after which a customer's available points expire (0: never)."""
        return int(self._get("LOYALTY_INACTIVITY_DAYS", 0))

    @property
    def REFERRAL_FRIEND_BONUS(self) -> int:
        """Points a referred friend gets with their first order (0: none)."""
        return int(self._get("REFERRAL_FRIEND_BONUS", 0))

    @property
    def REFERRAL_ADVOCATE_BONUS(self) -> int:
        """Points the advocate gets when a referred friend's first order is past its return
        window (0: none)."""
        return int(self._get("REFERRAL_ADVOCATE_BONUS", 0))

    @property
    def REFERRAL_MAX_PER_IP_WEEK(self) -> int:
        """Referral claims one IP address may make in seven days before more are refused."""
        return int(self._get("REFERRAL_MAX_PER_IP_WEEK", 3))

    @property
    def REFERRAL_LINK_TEMPLATE(self) -> str:
        """The storefront link a customer shares, with {code}, e.g. https://shop.com/?ref={code}."""
        return str(self._get("REFERRAL_LINK_TEMPLATE", ""))

    @property
    def LOYALTY_REWARDS(self) -> tuple[int, ...]:
        """The point packages offered as rewards, e.g. "500,1000,2500" (ascending); a package
        given as "2500:gift_card" is a Saleor gift card instead of a voucher."""
        return tuple(sorted(self.LOYALTY_REWARD_KINDS))

    @property
    def LOYALTY_REWARD_KINDS(self) -> dict[int, str]:
        """Points -> "voucher" or "gift_card", read from LOYALTY_REWARDS."""
        raw = self._get("LOYALTY_REWARDS", "500,1000,2500")
        items = raw.split(",") if isinstance(raw, str) else raw
        kinds: dict[int, str] = {}
        for item in items:
            points, _, kind = str(item).strip().partition(":")
            if points.strip() and int(points) > 0:
                kinds[int(points)] = kind.strip() or "voucher"
        return kinds

    @property
    def LOYALTY_BIRTHDAY_BONUS(self) -> int:
        """Points on a customer's birthday, once a year (0: none)."""
        return int(self._get("LOYALTY_BIRTHDAY_BONUS", 0))

    @property
    def LOYALTY_RETURN_DAYS(self) -> int:
        """Days an order's points stay pending (the store's return window) before they count."""
        return int(self._get("LOYALTY_RETURN_DAYS", 14))

    @property
    def INBOX_BATCH_SIZE(self) -> int:
        """Deliveries one drain task claims and applies in one transaction.

        About 40 set-based statements apply a batch whatever its size, so larger batches pay
        them less often: 1,000 applied 15-25% faster than 500 in bench/drain.py for the same
        memory (2,000 was mixed), and holds the store's lock for under a second a turn."""
        return int(self._get("INBOX_BATCH_SIZE", 1000))

    @property
    def INBOX_APPLIER_THREADS(self) -> int:
        """Threads one drain applies a backlog with (each its own connection and transaction;
        a store's batches still take turns on its lock). One batch's claim and parsing
        (Python) then run while another's writes wait on PostgreSQL: 2-40% more deliveries a
        second from one worker process (bench/drain.py; three threads did worse than two,
        and a second worker process, parsing on another core, gains more). The extra threads
        start only when a claim comes back full, so a drain of a few deliveries opens no
        connection."""
        return max(1, int(self._get("INBOX_APPLIER_THREADS", 2)))

    @property
    def ENCRYPTION_KEY(self) -> str:
        """Secret the app tokens are encrypted with; defaults to Django's SECRET_KEY."""
        return str(self._get("ENCRYPTION_KEY", "") or settings.SECRET_KEY)

    @property
    def PUBLIC_URL(self) -> str:
        """Where Saleor reaches this app (manifest URLs); empty means from the request."""
        return str(self._get("PUBLIC_URL", "")).rstrip("/")

    @property
    def RECOVERY_ATTRIBUTION_DAYS(self) -> int:
        """Days after a recovery reminder reached the customer during which their order counts
        as recovered by it (5 days, as most e-mail tools count)."""
        return int(self._get("RECOVERY_ATTRIBUTION_DAYS", 5))

    @property
    def WINBACK_ENABLED(self) -> bool:
        """Whether customers who become dormant get the one win-back e-mail per dormant spell
        (marketing: consent, send window and frequency cap apply)."""
        return bool(self._get("WINBACK_ENABLED", True))

    @property
    def CAMPAIGN_ATTRIBUTION_DAYS(self) -> int:
        """Days after a campaign message reached the customer during which their orders count
        as the campaign's response (credited to the latest step they got)."""
        return int(self._get("CAMPAIGN_ATTRIBUTION_DAYS", 5))

    @property
    def BROWSE_REMINDER_HOURS(self) -> int:
        """Hours after a known customer's last product view (no cart, no order since) that
        the one browse reminder is due; 0 switches browse reminders off."""
        return int(self._get("BROWSE_REMINDER_HOURS", 2))

    @property
    def BROWSE_REMINDER_EVERY_DAYS(self) -> int:
        """A customer gets at most one browse reminder in this many days, and none this soon
        after a cart reminder."""
        return int(self._get("BROWSE_REMINDER_EVERY_DAYS", 30))

    @property
    def LOYALTY_POINTS_PER_CURRENCY(self) -> dict[str, Decimal]:
        """Points per whole unit of a channel currency, e.g. {"JPY": "0.01", "USD": "1"}.

        An order in one of these currencies earns on its own total in that currency (a shop may
        want round numbers per market); other orders earn on their base-currency value with
        LOYALTY_POINTS_PER_UNIT. Checked at start-up (saleor_crm_plugin.E003).
        """
        raw = self._get("LOYALTY_POINTS_PER_CURRENCY", {}) or {}
        return {str(code).upper(): Decimal(str(rate)) for code, rate in dict(raw).items()}

    @property
    def LOYALTY_FEEDBACK_BONUS(self) -> int:
        """Points for each piece of feedback a customer gives (a review, a survey), once per
        feedback; 0 turns it off."""
        return int(self._get("LOYALTY_FEEDBACK_BONUS", 0))

    @property
    def LOYALTY_FINGERPRINT_KEY(self) -> str:
        """Secret the referral checks key their address and card hashes with (HMAC), so the CRM
        can compare them without keeping either in clear; defaults to the encryption key."""
        return str(self._get("LOYALTY_FINGERPRINT_KEY", "") or self.ENCRYPTION_KEY)

    @property
    def STRIPE_API_KEY(self) -> str:
        """Stripe secret key for tenants without a Stripe account of their own (the in-process
        plugin has one tenant, configured here rather than through crmStripeAccountSet)."""
        return str(self._get("STRIPE_API_KEY", ""))

    @property
    def STRIPE_WEBHOOK_SECRET(self) -> str:
        """Stripe webhook signing secret (``whsec_...``) for the same tenants."""
        return str(self._get("STRIPE_WEBHOOK_SECRET", ""))

    @property
    def STRIPE_WEBHOOK_TOLERANCE(self) -> int:
        """Seconds a Stripe signature's timestamp may be off our clock, either way: stripe's own
        check only refuses old timestamps, and a replayed request must not pass later either."""
        return int(self._get("STRIPE_WEBHOOK_TOLERANCE", 300))

    @property
    def TWILIO_API_BASE(self) -> str:
        """Where Twilio's REST API is (its Messages resource lives under it); tests point it at
        a local stand-in."""
        return str(self._get("TWILIO_API_BASE", "https://api.twilio.com")).rstrip("/")

    @property
    def WHATSAPP_API_BASE(self) -> str:
        """Where Meta's Graph API (WhatsApp Cloud API) is."""
        return str(self._get("WHATSAPP_API_BASE", "https://graph.facebook.com")).rstrip("/")

    @property
    def WHATSAPP_API_VERSION(self) -> str:
        """The Graph API version in the path, e.g. "21.0" for /v21.0/."""
        return str(self._get("WHATSAPP_API_VERSION", "21.0")).lstrip("v")

    @property
    def CHANNEL_HTTP_TIMEOUT(self) -> float:
        """Seconds to wait for Twilio or Meta before counting the attempt as failed (retried)."""
        return float(self._get("CHANNEL_HTTP_TIMEOUT", 10))

    @property
    def MESSAGING_ADAPTERS(self) -> dict[str, str]:
        """Medium -> dotted path of its adapter class, over the built-in ones (email, sms,
        whatsapp): a store replaces how one medium travels without touching the outbox."""
        return dict(self._get("MESSAGING_ADAPTERS", {}))

    @property
    def DOUBLE_OPT_IN_COUNTRIES(self) -> frozenset[str]:
        """Countries (ISO codes) where a marketing consent counts only once the customer has
        confirmed it from an e-mail (double opt-in), e.g. "DE,AT"."""
        raw = self._get("DOUBLE_OPT_IN_COUNTRIES", "")
        items = raw.split(",") if isinstance(raw, str) else raw
        return frozenset(str(x).strip().upper() for x in items if str(x).strip())

    @property
    def MESSAGE_SENDER(self) -> str:
        """From address of CRM e-mails, e.g. "Shop <hello@shop.com>"; empty: DEFAULT_FROM_EMAIL."""
        return str(self._get("MESSAGE_SENDER", "") or settings.DEFAULT_FROM_EMAIL)

    @property
    def SHOP_NAME(self) -> str:
        """The store's name as customers know it, in e-mails and on the unsubscribe page;
        empty: the Saleor domain."""
        return str(self._get("SHOP_NAME", ""))

    @property
    def DEFAULT_LANGUAGE(self) -> str:
        """Language of messages to customers whose language and channel say nothing (BCP 47)."""
        return str(self._get("DEFAULT_LANGUAGE", "en"))

    @property
    def CHANNEL_LANGUAGES(self) -> dict[str, str]:
        """Channel slug -> default message language, e.g. {"de": "de", "jp": "ja"}: the step
        after the customer's own language in the fallback chain."""
        return dict(self._get("CHANNEL_LANGUAGES", {}))

    @property
    def SEND_WINDOW(self) -> str:
        """Local hours of the customer in which marketing messages may go out, e.g. 09:00-20:00;
        outside them messages wait (queued, never dropped)."""
        return str(self._get("SEND_WINDOW", "09:00-20:00"))

    @property
    def SEND_WINDOW_COUNTRIES(self) -> dict[str, dict[str, Any]]:
        """Per-country rules on top of the built-in ones (``messaging/windows.py COUNTRY_RULES``),
        e.g. {"FR": {"window": "10:00-19:00", "no_sundays": true, "no_holidays": true}}."""
        return dict(self._get("SEND_WINDOW_COUNTRIES", {}))

    @property
    def MESSAGE_FREQUENCY_CAP_HOURS(self) -> float:
        """At most one marketing message per customer in this many hours, across flows and
        channels; a message over the cap waits (0: no cap)."""
        return float(self._get("MESSAGE_FREQUENCY_CAP_HOURS", 16))

    @property
    def UNSUBSCRIBE_MAILTO(self) -> str:
        """Optional address for ``List-Unsubscribe: <mailto:...>`` besides the one-click link."""
        return str(self._get("UNSUBSCRIBE_MAILTO", ""))

    @property
    def MESSAGE_MAX_ATTEMPTS(self) -> int:
        """Sending attempts of one message (temporary SMTP errors) before it is marked failed."""
        return int(self._get("MESSAGE_MAX_ATTEMPTS", 5))

    @property
    def MESSAGE_LEASE_SECONDS(self) -> int:
        """How long a sender owns a claimed message; after that a sender that died is presumed
        dead and the message is sent again, with the same Message-ID."""
        return int(self._get("MESSAGE_LEASE_SECONDS", 600))

    @property
    def CONFIRMATION_DAYS(self) -> int:
        """Days a double opt-in confirmation link stays valid."""
        return int(self._get("CONFIRMATION_DAYS", 7))

    @property
    def LOYALTY_TIER_MESSAGES(self) -> str:
        """Which tier changes e-mail the customer: "up" (reaching a higher tier), "all" (also
        a downgrade) or "none"."""
        value = str(self._get("LOYALTY_TIER_MESSAGES", "up")).lower()
        return value if value in ("up", "all", "none") else "up"

    @property
    def LOYALTY_EXPIRY_REMINDER_DAYS(self) -> int:
        """Days before points expire (lot expiry) that the customer is reminded, once per
        expiry date; 0 sends no reminder."""
        return int(self._get("LOYALTY_EXPIRY_REMINDER_DAYS", 14))

    @property
    def LIFECYCLE_AT_RISK_AFTER(self) -> Decimal:
        """A customer is "at risk" past this many of their own mean gaps between purchases
        (2: they are twice as late as usual). Stores may set their own (crm_lifecycle_settings)."""
        return Decimal(str(self._get("LIFECYCLE_AT_RISK_AFTER", "2")))

    @property
    def LIFECYCLE_DORMANT_AFTER(self) -> Decimal:
        """Dormant past this many mean gaps."""
        return Decimal(str(self._get("LIFECYCLE_DORMANT_AFTER", "4")))

    @property
    def LIFECYCLE_LOST_AFTER(self) -> Decimal:
        """Lost past this many mean gaps."""
        return Decimal(str(self._get("LIFECYCLE_LOST_AFTER", "8")))

    @property
    def LIFECYCLE_DEFAULT_CADENCE_DAYS(self) -> Decimal:
        """The gap (days) assumed for one-order customers while no customer of the store has
        ordered twice; once some have, the median of their mean gaps is used instead."""
        return Decimal(str(self._get("LIFECYCLE_DEFAULT_CADENCE_DAYS", "60")))

    @property
    def RECOMPUTE_PARALLEL_WORKERS(self) -> int:
        """PostgreSQL parallel workers the full recompute may use for each of its reads of every
        customer (the quintiles' counting pass and the comparison with the stored scores), on
        top of its own connection; 0 keeps it on one core. Workers run in the recompute's own
        transaction and snapshot, so the result is the same; the server's
        ``max_parallel_workers`` still caps them (if none is free the read runs alone). By
        default one less than this host's cores (at most 4), a guess at the database's: on 2
        cores one worker beside the connection was faster than two (1,000,000 customers)."""
        return max(0, int(self._get("RECOMPUTE_PARALLEL_WORKERS", _default_workers())))

    @property
    def STORE_TIME_ZONE(self) -> str:
        """IANA time zone whose midnights bound the days, weeks and months of KPI reports;
        Saleor does not tell us the store's own, so the merchant does."""
        return str(self._get("STORE_TIME_ZONE", "UTC"))

    @property
    def RISK_REFUND_RATE(self) -> Decimal:
        """Share of spend refunded from which a customer is flagged ``refunds``."""
        return Decimal(str(self._get("RISK_REFUND_RATE", "0.25")))

    @property
    def RISK_RETURN_RATE(self) -> Decimal:
        """Share of orders (partly) returned from which a customer is flagged ``returns``."""
        return Decimal(str(self._get("RISK_RETURN_RATE", "0.25")))

    @property
    def RISK_CANCELLED_ORDERS(self) -> int:
        """Cancelled orders from which a customer is flagged ``cancellations``."""
        return int(self._get("RISK_CANCELLED_ORDERS", 2))

    @property
    def PREDICTION_MIN_REPEAT_CUSTOMERS(self) -> int:
        """Customers with two or more purchases a store needs before BG/NBD is fitted; with
        fewer, predictions use the cadence heuristic (docs/predictions.md)."""
        return int(self._get("PREDICTION_MIN_REPEAT_CUSTOMERS", 50))

    @property
    def PREDICTION_MIN_HISTORY_DAYS(self) -> int:
        """Days between a store's first purchase and now before BG/NBD is fitted."""
        return int(self._get("PREDICTION_MIN_HISTORY_DAYS", 90))

    @property
    def RECOMMENDATION_MIN_PAIR_ORDERS(self) -> int:
        """Purchases two products must share before they count as bought together."""
        return int(self._get("RECOMMENDATION_MIN_PAIR_ORDERS", 2))

    @property
    def RECOMMENDATION_VIEWED_DAYS(self) -> int:
        """How far back product views count for "viewed but not bought"."""
        return int(self._get("RECOMMENDATION_VIEWED_DAYS", 30))

    @property
    def SEGMENT_PREVIEW_SIZE(self) -> int:
        """How many members a segment preview lists with its count."""
        return int(self._get("SEGMENT_PREVIEW_SIZE", 10))

    @property
    def WELCOME_WITHIN_HOURS(self) -> int:
        """Accounts opened this recently get the welcome e-mail when the CRM hears of them
        (older ones, e.g. from a backfill, are not greeted); 0 sends no welcome e-mail."""
        return int(self._get("WELCOME_WITHIN_HOURS", 48))

    @property
    def POST_PURCHASE_DAYS(self) -> float:
        """Days after an order is fulfilled that the post-purchase e-mail (thanks, and a 1-5
        rating request) goes out, once per order; 0 sends none."""
        return float(self._get("POST_PURCHASE_DAYS", 7))

    @property
    def POST_PURCHASE_UNFULFILLED_DAYS(self) -> float:
        """For stores that never mark orders fulfilled in Saleor (digital goods, fulfilment
        elsewhere): days after payment to send it for an order still not fulfilled; 0 (the
        default) waits for fulfilment only."""
        return float(self._get("POST_PURCHASE_UNFULFILLED_DAYS", 0))

    @property
    def POST_PURCHASE_PURPOSE(self) -> str:
        """ "marketing" (the default: only with marketing consent, inside the send window and
        the frequency cap, with an unsubscribe link) or "transactional" (every buyer, where
        the law lets a shop ask its own customers for a review of their order)."""
        value = str(self._get("POST_PURCHASE_PURPOSE", "marketing")).lower()
        return value if value in ("marketing", "transactional") else "marketing"

    @property
    def FEEDBACK_FLAG_AT_OR_BELOW(self) -> int:
        """Ratings at or below this are flagged to staff (``crmFeedback(filter: {flagged})``)."""
        return int(self._get("FEEDBACK_FLAG_AT_OR_BELOW", 2))

    @property
    def FEEDBACK_LINK_DAYS(self) -> int:
        """How long the rating links of a post-purchase e-mail work."""
        return int(self._get("FEEDBACK_LINK_DAYS", 60))

    @property
    def RETENTION_INBOX_DAYS(self) -> int:
        """Days the raw body of an applied webhook delivery is kept; after that only its hash
        stays (replays remain no-ops). 0 keeps bodies for ever."""
        return int(self._get("RETENTION_INBOX_DAYS", 30))

    @property
    def RETENTION_BEHAVIOUR_DAYS(self) -> int:
        """Days tracked storefront behaviour is kept (timeline entries derived from it go
        with it). 0 keeps it for ever."""
        return int(self._get("RETENTION_BEHAVIOUR_DAYS", 365))

    @property
    def RETENTION_MESSAGE_DAYS(self) -> int:
        """Days a sent, skipped or failed message (its data, recipient profile and error) is
        kept in the outbox. 0 keeps them for ever."""
        return int(self._get("RETENTION_MESSAGE_DAYS", 730))

    @property
    def RETENTION_BATCH_SIZE(self) -> int:
        """Rows one retention statement deletes or empties, so no statement holds locks long."""
        return int(self._get("RETENTION_BATCH_SIZE", 5000))

    @property
    def CASE_DUE_HOURS(self) -> int:
        """When a service case is due if whoever opens it gives no due time (hours after
        opening): the store's promised answer time."""
        return int(self._get("CASE_DUE_HOURS", 48))

    @property
    def CASE_CUSTOMER_DAILY_LIMIT(self) -> int:
        """How many cases one signed-in customer may open from the storefront in 24 hours;
        enough for real problems, too few for a script to flood the support team."""
        return int(self._get("CASE_CUSTOMER_DAILY_LIMIT", 5))


crm_settings = CRMSettings()
