"""``checkoutComplete`` in a real Saleor 3.24 with the CRM plugin off and on, interleaved.

Runs only where ``saleor`` is importable (a Saleor 3.24 environment with this package installed,
as in docs/plugin.md "Testing inside a real Saleor"); it never builds Saleor. Usage::

    SECRET_KEY=x DATABASE_URL=postgres://postgres@127.0.0.1:5432/saleor_bench \\
      python bench/plugin_overhead.py --checkouts 200 [--reuse-db]

It runs itself under pytest so that Saleor's own test fixtures set up the store (channel,
product with stock, shipping zone, a customer with an address and the customer's API client).
Then, ``--checkouts`` times, two checkouts are prepared alike (a line, addresses, a delivery
method and a charged card transaction for the exact total: not timed) and completed through
Saleor's GraphQL ``checkoutComplete`` by the shopper's client, one with the plugin off
(``PLUGINS = []``, Saleor as shipped) and one with it on, in alternating order. Each request is
a full Django request through Saleor's middleware, schema and plugin manager, committed to
PostgreSQL, with the hooks run after commit as in production; the CRM hands its drain request
to a real Celery broker (Redis db ``--redis-db``) from its publisher thread, as with Saleor's
broker configured, and no worker runs in this process. The first ``--warmup`` pairs are left
out. Reported: p50 and p99 of each, and the ratio on/off (goal: at most 1.03 at p50).
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
    parser.add_argument("--checkouts", type=int, default=200, help="pairs timed (off, on)")
    parser.add_argument("--warmup", type=int, default=10, help="pairs first, not counted")
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

    from saleor_crm_plugin.plugin import plugin as crm_plugin

    in_hooks = [0.0, 0]  # seconds inside the CRM's hooks, calls: where an overhead comes from
    record_hook = crm_plugin.record_hook

    def timed_record_hook(*a, **kw):
        started = time.perf_counter()
        try:
            return record_hook(*a, **kw)
        finally:
            in_hooks[0] += time.perf_counter() - started
            in_hooks[1] += 1

    crm_plugin.record_hook = timed_record_hook
    # The request's events are stored when it ends (``door.flush`` from ``request_finished``,
    # which the test client sends before returning, as a server does after the last byte):
    # counted with the hooks, so the figure is everything the CRM adds to the request.
    from saleor_crm_plugin.plugin import door as crm_door

    flush = crm_door.flush

    def timed_flush(*a, **kw):
        started = time.perf_counter()
        try:
            return flush(*a, **kw)
        finally:
            in_hooks[0] += time.perf_counter() - started

    crm_door.flush = timed_flush
    hook_share: list[float] = []

    def complete(plugins: list[str]) -> float:
        settings.PLUGINS = []
        checkout = prepared()
        settings.PLUGINS = plugins
        variables = {"id": graphene.Node.to_global_id("Checkout", checkout.pk)}
        started = time.perf_counter()
        response = user_api_client.post_graphql(CHECKOUT_COMPLETE, variables)
        elapsed = time.perf_counter() - started
        result = response.json()["data"]["checkoutComplete"]
        assert not result["errors"] and result["order"], result
        return elapsed

    timings: dict[str, list[float]] = {"off": [], "on": []}
    for i in range(warmup + pairs):
        order = (("off", []), ("on", crm_on)) if i % 2 == 0 else (("on", crm_on), ("off", []))
        for name, plugins in order:
            in_hooks[:] = [0.0, 0]
            took = complete(plugins)
            if i >= warmup:
                timings[name].append(took)
                if plugins:
                    hook_share.append(in_hooks[0])
                    calls = in_hooks[1]
    settings.PLUGINS = []
    recorded = Delivery.objects.filter(source="plugin", event="order_created").count()
    assert recorded == warmup + pairs, recorded  # the plugin really ran for each "on"

    import redis

    redis.Redis.from_url(f"redis://127.0.0.1:6379/{redis_db}").flushdb()  # queued drains

    off, on = timings["off"], timings["on"]
    print()
    print(f"checkoutComplete, {pairs} pairs after {warmup} warm-up pairs (ms)")
    print(f"{'':8}{'p50':>10}{'p99':>10}{'mean':>10}")
    for name, values in (("off", off), ("on", on)):
        p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
        print(f"{name:8}{p50:10.1f}{p99:10.1f}{statistics.mean(values) * 1000:10.1f}")
    print(
        f"ratio on/off: p50 {percentile(on, 0.5) / percentile(off, 0.5):.3f}, "
        f"p99 {percentile(on, 0.99) / percentile(off, 0.99):.3f}, "
        f"mean {statistics.mean(on) / statistics.mean(off):.3f}"
    )
    print(
        f"inside the CRM's hooks and its end-of-request store per checkoutComplete "
        f"({calls} hook calls): "
        f"p50 {percentile(hook_share, 0.5) * 1000:.1f} ms"
    )
    diffs = sorted(b - a for a, b in zip(off, on, strict=True))
    print(f"median of paired differences (on - off): {statistics.median(diffs) * 1000:.1f} ms")
    print("load:", os.popen("uptime").read().strip())


if __name__ == "__main__":
    sys.exit(main())
