"""``checkoutComplete`` in a real Saleor 3.24 with the CRM plugin off and on, interleaved.

Runs only where ``saleor`` is importable (a Saleor 3.24 environment with this package installed,
as in docs/plugin.md "Testing inside a real Saleor"); it never builds Saleor. Usage::

    SECRET_KEY=x DATABASE_URL=postgres://postgres@127.0.0.1:5432/saleor_bench \\
      python bench/plugin_overhead.py --checkouts 200 [--reuse-db]

It runs itself under pytest so that Saleor's own test fixtures set up the store (channel,
product with stock, shipping zone, a customer with an address and the customer's API client).
Then, ``--checkouts`` times, three checkouts are prepared alike (a line, addresses, a delivery
method and a charged card transaction for the exact total: not timed) and completed through
Saleor's GraphQL ``checkoutComplete`` by the shopper's client, one with the plugin off
(``PLUGINS = []``, Saleor as shipped) and two with it on, in rotating order: ``per-hook``
(each hook stores its own event, the door before request batching) and ``batched`` (the
request's events stored with one insert when it ends). Each request is
a full Django request through Saleor's middleware, schema and plugin manager, committed to
PostgreSQL, with the hooks run after commit as in production; the CRM hands its drain request
to a real Celery broker (Redis db ``--redis-db``) from its publisher thread, as with Saleor's
broker configured, and no worker runs in this process. The first ``--warmup`` rounds are left
out. Reported: p50 and p99 of each, the ratios to off (goal: at most 1.03), and what the
CRM's own code took inside each request (its hooks and end-of-request store).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECKOUT_COMPLETE = """
mutation complete($id: ID) {
  checkoutComplete(id: $id) { order { id } errors { field code message } }
}
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    import importlib.util

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--checkouts", type=int, default=200, help="rounds timed (off, per-hook, batched)"
    )
    parser.add_argument("--warmup", type=int, default=10, help="rounds first, not counted")
    parser.add_argument("--redis-db", type=int, default=6)
    parser.add_argument("--reuse-db", action="store_true", help="pytest-django's --reuse-db")
    args = parser.parse_args()
    if importlib.util.find_spec("saleor") is None:
        print("saleor is not importable here: run this inside a Saleor 3.24 environment")
        return 2
    os.environ["CRM_BENCH_CHECKOUTS"] = str(args.checkouts)
    os.environ["CRM_BENCH_WARMUP"] = str(args.warmup)
    os.environ["CRM_BENCH_REDIS_DB"] = str(args.redis_db)
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ["DJANGO_SETTINGS_MODULE"] = "saleor.tests.settings"
    import django
    import pytest

    django.setup()  # the fixture plugin below imports Saleor's models when loaded

    options = [
        f"{__file__}::test_checkout_complete_with_the_crm_off_and_on",
        "--ds=saleor.tests.settings",
        "--nomigrations",
        "-p",
        "no:cacheprovider",
        "-p",
        "tests.in_saleor.conftest",  # Saleor's fixtures
        "-q",
        "-s",
    ]
    if args.reuse_db:
        options.append("--reuse-db")
    return int(pytest.main(options))


try:  # the measurement, collected by the pytest run ``main`` starts
    import pytest as _pytest

    _bench = _pytest.mark.django_db(transaction=True, databases=["default", "replica"])
except ImportError:  # pragma: no cover
    _bench = lambda f: f  # noqa: E731


@_bench
def test_checkout_complete_with_the_crm_off_and_on(
    settings,
    channel_USD,
    product,
    shipping_zone,
    customer_user,
    address,
    user_api_client,
    checkout_delivery,
    transaction_item_generator,
    transaction_events_generator,
):
    import graphene
    from django.db import connection
    from django.test import override_settings
    from django.utils import timezone
    from saleor.checkout import calculations
    from saleor.checkout.fetch import fetch_checkout_info, fetch_checkout_lines
    from saleor.checkout.models import Checkout, CheckoutMetadata
    from saleor.checkout.tests.utils import add_variant_to_checkout
    from saleor.payment import TransactionEventType
    from saleor.payment.transaction_item_calculations import recalculate_transaction_amounts
    from saleor.plugins.manager import get_plugins_manager
    from saleor.plugins.models import PluginConfiguration
    from saleor.warehouse.models import Stock

    from saleor_crm_plugin.inbox.tasks import drain_inbox
    from saleor_crm_plugin.models import Delivery

    pairs = int(os.environ.get("CRM_BENCH_CHECKOUTS", "200"))
    warmup = int(os.environ.get("CRM_BENCH_WARMUP", "10"))
    redis_db = int(os.environ.get("CRM_BENCH_REDIS_DB", "6"))
    with connection.cursor() as cur:  # made by one of Saleor's migrations (--nomigrations)
        cur.execute("CREATE SEQUENCE IF NOT EXISTS order_order_number_seq")
    PluginConfiguration.objects.create(
        identifier="saleor.crm",
        active=True,
        configuration=[{"name": "base_currency", "value": "USD"}],
    )
    variant = product.variants.first()
    Stock.objects.filter(product_variant=variant).update(quantity=10**6)
    celery = drain_inbox.app
    celery.conf.task_always_eager = False  # production: a broker, a worker elsewhere
    celery.conf.broker_url = f"redis://127.0.0.1:6379/{redis_db}"
    settings.CRM_INBOX_DISPATCH = "celery"
    crm_on = ["saleor_crm_plugin.plugin.CRMPlugin"]

    def prepared() -> Checkout:
        checkout = Checkout.objects.create(
            currency="USD",
            channel=channel_USD,
            price_expiration=timezone.now() + settings.CHECKOUT_PRICES_TTL,
            email=customer_user.email,
            user=customer_user,
            shipping_address=address.get_copy(),
            billing_address=address.get_copy(),
        )
        checkout.set_country("US", commit=True)
        CheckoutMetadata.objects.create(checkout=checkout)
        manager = get_plugins_manager(allow_replica=False)
        add_variant_to_checkout(fetch_checkout_info(checkout, [], manager), variant, 2)
        checkout.assigned_delivery = checkout_delivery(checkout)
        checkout.save()
        lines, _ = fetch_checkout_lines(checkout)
        info = fetch_checkout_info(checkout, lines, manager)
        total = calculations.calculate_checkout_total_with_gift_cards(manager, info, lines)
        payment = transaction_item_generator(checkout_id=checkout.pk, name="Stripe")
        transaction_events_generator(
            transaction=payment,
            psp_references=[f"pi_{checkout.pk}"],
            types=[TransactionEventType.CHARGE_SUCCESS],
            amounts=[total.gross.amount],
        )
        recalculate_transaction_amounts(payment)
        checkout.price_expiration = timezone.now()
        checkout.save()
        return checkout

    from django.core.signals import request_started

    from saleor_crm_plugin.plugin import door as crm_door
    from saleor_crm_plugin.plugin import plugin as crm_plugin

    # Where the CRM's time goes, per checkoutComplete: everything inside its hooks and its
    # end-of-request store (``door.flush``, from ``request_finished``, which the test client
    # sends before returning, as a server does after the last byte), and within that the
    # reading of Saleor's objects (``delivery_body``) and the inbox stores.
    spent = {"crm": 0.0, "read": 0.0, "store": 0.0, "calls": 0, "queries": 0, "gc": 0.0}
    gc_started = [0.0]

    def gc_pause(phase: str, info: dict) -> None:
        """Python's collector stops the request too: its pauses show in the tails, not in the
        CRM's code, so they are counted apart (CRM_BENCH_RAW)."""
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            spent["gc"] += time.perf_counter() - gc_started[0]

    import gc

    gc.callbacks.append(gc_pause)

    def counted(execute, sql, params, many, context):
        spent["queries"] += 1
        return execute(sql, params, many, context)

    profile = None
    if os.environ.get("CRM_BENCH_PROFILE"):  # a file: where the CRM's own time goes
        import cProfile

        profile = cProfile.Profile()

    def timed(target, name, key, count=False):
        inner = getattr(target, name)

        def wrapper(*a, **kw):
            started = time.perf_counter()
            try:
                if not count:
                    return inner(*a, **kw)
                with connection.execute_wrapper(counted):  # statements the CRM sends
                    if profile is None:
                        return inner(*a, **kw)
                    return profile.runcall(inner, *a, **kw)
            finally:
                spent[key] += time.perf_counter() - started
                if count:
                    spent["calls"] += 1

        setattr(target, name, wrapper)

    timed(crm_plugin, "record_hook", "crm", count=True)
    timed(crm_door, "flush", "crm", count=True)
    timed(crm_door, "delivery_body", "read")
    timed(crm_door, "store", "store")
    timed(crm_door, "store_many", "store")

    def batching(on: bool) -> None:
        """Off: each hook stores its own event at once (the door before batching)."""
        if on:
            crm_door.install_request_batching()
        else:
            request_started.disconnect(dispatch_uid="crm-plugin-batch-start")

    def complete(plugins: list[str]) -> float:
        # Scoped overrides, not ``settings.PLUGINS = ...``: pytest-django's fixture stacks one
        # settings layer per assignment until the end of the test, and past about 100 rounds a
        # lookup through them exceeds Python's recursion limit (RecursionError in Saleor).
        with override_settings(PLUGINS=[]):
            checkout = prepared()
        with override_settings(PLUGINS=plugins):
            variables = {"id": graphene.Node.to_global_id("Checkout", checkout.pk)}
            spent["gc"] = 0.0
            started = time.perf_counter()
            response = user_api_client.post_graphql(CHECKOUT_COMPLETE, variables)
            elapsed = time.perf_counter() - started
        result = response.json()["data"]["checkoutComplete"]
        assert not result["errors"] and result["order"], result
        return elapsed

    variants = [("off", [], True), ("per-hook", crm_on, False), ("batched", crm_on, True)]
    timings: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    inside: dict[str, dict[str, list[float]]] = {
        name: {"crm": [], "read": [], "store": []} for name, _, _ in variants
    }
    gc_inside: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    calls = 0
    queries: dict[str, int] = {}
    for i in range(warmup + pairs):
        shift = i % len(variants)  # each variant first, second and last in turn
        for name, plugins, batched in variants[shift:] + variants[:shift]:
            batching(batched)
            spent.update(crm=0.0, read=0.0, store=0.0, calls=0, queries=0)
            took = complete(plugins)
            if i >= warmup:
                timings[name].append(took)
                gc_inside[name].append(spent["gc"])
                if plugins:
                    for key in ("crm", "read", "store"):
                        inside[name][key].append(spent[key])
                    calls = int(spent["calls"])
                    queries[name] = int(spent["queries"])
    gc.callbacks.remove(gc_pause)
    batching(True)
    settings.PLUGINS = []
    recorded = Delivery.objects.filter(source="plugin", event="order_created").count()
    assert recorded == 2 * (warmup + pairs), recorded  # the plugin really ran for each "on"

    import redis

    redis.Redis.from_url(f"redis://127.0.0.1:6379/{redis_db}").flushdb()  # queued drains

    off = timings["off"]
    print()
    print(f"checkoutComplete, {pairs} rounds after {warmup} warm-up rounds (ms)")
    print(
        f"{'':10}{'p50':>9}{'p99':>9}{'mean':>9}{'/off p50':>10}{'/off mean':>10}"
        f"{'paired':>9}{'CRM p50':>9}{'read':>7}{'store':>7}"
    )
    for name, _, _ in variants:
        values = timings[name]
        p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
        line = (
            f"{name:10}{p50:9.1f}{p99:9.1f}{statistics.mean(values) * 1000:9.1f}"
            f"{percentile(values, 0.5) / percentile(off, 0.5):10.3f}"
            f"{statistics.mean(values) / statistics.mean(off):10.3f}"
            f"{statistics.median(b - a for a, b in zip(off, values, strict=True)) * 1000:9.1f}"
        )
        if name != "off":
            line += "".join(
                f"{percentile(inside[name][key], 0.5) * 1000:{w}.1f}"
                for key, w in (("crm", 9), ("read", 7), ("store", 7))
            )
            share = [c / t for c, t in zip(inside[name]["crm"], values, strict=True)]
            line += f"   CRM share of its request p50 {percentile(share, 0.5) * 100:.1f}%"
            line += f", {queries[name]} statements"
        print(line)
    print(
        f"({calls} hook calls and flushes per checkoutComplete; 'paired': median of "
        "(variant - off); statements: SQL the CRM sent in the last round, incl. BEGIN/COMMIT "
        "only where Django sends them as statements)"
    )
    print("load:", os.popen("uptime").read().strip())
    if os.environ.get("CRM_BENCH_RAW"):  # a file: every round's times, for intervals and tails
        import json

        raw = {"checkout_s": timings, "crm_inside_s": inside, "gc_inside_s": gc_inside}
        Path(os.environ["CRM_BENCH_RAW"]).write_text(json.dumps(raw))
    if profile is not None:
        import pstats

        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        profile.dump_stats(os.environ["CRM_BENCH_PROFILE"])  # a file, for pstats' callers


if __name__ == "__main__":
    sys.exit(main())
