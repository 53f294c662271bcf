"""Backfill throughput: a synthetic multi-currency store served as Saleor's GraphQL pages.

Usage (PostgreSQL from ``DATABASE_URL``; the database is created if missing and emptied)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python bench/backfill.py --orders 100000

A separate process plays Saleor: it builds each page of customers and orders on request
(deterministically, so every run sees the same store) and answers it over HTTP, as Saleor's
``customers``/``orders`` connections would. The real ``backfill()`` pages through it with the
real client, stores every node in the inbox and applies it (profiles, FX at order time,
aggregates).

Results are ratios to a floor measured in the same run, on the same machine, so they compare
across machines: the floor is what any importer must pay at least, namely fetching and parsing
every page from the same server, plus writing every node's JSON into PostgreSQL with one COPY.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGE = 100
START = datetime(2024, 1, 1, tzinfo=UTC)
ORDERS_PER_CUSTOMER = 3


# --- the Saleor stand-in (its own process) ----------------------------------------------------


def _person(pk: int) -> Any:
    from saleor_crm_plugin.demo import payloads as p
    from saleor_crm_plugin.demo.catalogue import CHANNELS, LANGUAGES, NAMES

    rng = random.Random(pk)
    channel = rng.choices(CHANNELS, [c.weight for c in CHANNELS])[0]
    country = rng.choice(channel.countries)
    language = LANGUAGES[country]
    first, last = rng.choice(NAMES[language][0]), rng.choice(NAMES[language][1])
    email = f"{first}.{last}.{pk}@example.com".lower().replace(" ", "").replace("'", "")
    joined = START + timedelta(minutes=pk)
    person = p.Person(pk, email, first, last, language, country, registered=pk % 10 < 7)
    person.joined = joined if person.registered else None
    person.has_address = person.registered
    return channel, person


def registered(customers: int) -> int:
    """How many of the people are registered (7 in 10; the rest buy as guests)."""
    return sum(1 for pk in range(customers) if pk % 10 < 7)


def customer_node(index: int) -> dict[str, Any]:
    """The ``index``-th registered customer: Saleor's ``customers`` holds no guests."""
    from saleor_crm_plugin.demo import payloads as p

    _, person = _person(index // 7 * 10 + index % 7)
    return p.user(person)


def order_node(number: int, customers: int) -> dict[str, Any]:
    from saleor_crm_plugin.demo import payloads as p
    from saleor_crm_plugin.demo.catalogue import PRODUCTS, local_price

    rng = random.Random(number * 7919)
    channel, person = _person(rng.randrange(customers))
    created = START + timedelta(seconds=number * 37)
    cart = p.Cart(str(uuid.UUID(int=rng.getrandbits(128))), channel, person, created=created)
    for _ in range(rng.choice((1, 1, 2, 3))):
        product = rng.choice(PRODUCTS)
        cart.lines.append((product, rng.choice((1, 1, 2)), local_price(product, channel)))
    state = p.OrderState(str(uuid.UUID(int=rng.getrandbits(128))), number, cart, created=created)
    roll = rng.random()
    if roll < 0.05:
        state.refunded, state.updated = cart.lines[0][2], created + timedelta(days=2)
    elif roll < 0.07:
        state.status, state.updated = "CANCELED", created + timedelta(hours=3)
    return p.order(state)


def page_body(root: str, index: int, total: int, customers: int) -> bytes:
    first = index * PAGE
    numbers = range(first, min(first + PAGE, total))
    if root == "customers":
        nodes = [customer_node(n) for n in numbers]
    else:
        nodes = [order_node(n, customers) for n in numbers]
    more = first + PAGE < total
    edges = [{"cursor": str(n), "node": node} for n, node in zip(numbers, nodes, strict=True)]
    page = {
        "totalCount": total,
        "pageInfo": {"hasNextPage": more, "endCursor": str(index + 1) if more else None},
        "edges": edges,
    }
    return json.dumps({"data": {root: page}}).encode()


def serve(port_out: Any, totals: dict[str, int], customers: int) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            root = "customers" if "customers(" in body["query"] else "orders"
            root = "checkouts" if "checkouts(" in body["query"] else root
            index = int(body["variables"].get("after") or 0)
            data = page_body(root, index, totals.get(root, 0), customers)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    server.serve_forever()


# --- the measurements ---------------------------------------------------------------------------


def fetch_floor(api_url: str, totals: dict[str, int]) -> tuple[float, list[bytes]]:
    """Fetch and parse every page with a bare client: the least any importer pays for reading."""
    import requests

    bodies: list[bytes] = []
    started = time.perf_counter()
    with requests.Session() as session:
        for root, total in totals.items():
            after: str | None = None
            for _ in range(-(-total // PAGE)):
                query = f"query {{ {root}(first: {PAGE}) {{ x }} }}"
                answer = session.post(api_url, json={"query": query, "variables": {"after": after}})
                page = json.loads(answer.content)["data"][root]
                bodies.extend(json.dumps(e["node"]).encode() for e in page["edges"])
                after = page["pageInfo"]["endCursor"]
    return time.perf_counter() - started, bodies


def write_floor(bodies: list[bytes]) -> float:
    """One COPY of every node's JSON into a plain table: the least any importer pays for writing."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_floor")
        cur.execute("CREATE TABLE bench_floor (body jsonb)")
    started = time.perf_counter()
    with connection.cursor() as cur, cur.copy("COPY bench_floor (body) FROM STDIN") as copy:
        for body in bodies:
            copy.write_row((body.decode(),))
    elapsed = time.perf_counter() - started
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_floor")
    return elapsed


def setup_database() -> None:
    import django
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit("set DATABASE_URL to a PostgreSQL database the benchmark may empty")
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
    os.environ["CRM_INBOX_DISPATCH"] = "external"  # backfill() applies as it goes
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--drain-every", type=int, default=5, help="pages between applies")
    parser.add_argument("--profile", help="write a cProfile of the backfill to this file")
    args = parser.parse_args()
    customers = max(1, args.orders // ORDERS_PER_CUSTOMER)
    totals = {"customers": registered(customers), "orders": args.orders, "checkouts": 0}

    setup_database()
    from saleor_crm_plugin.backfill.services import backfill
    from saleor_crm_plugin.demo.store import rates_csv
    from saleor_crm_plugin.models import OrderRecord, Profile
    from saleor_crm_plugin.money.services import load_rates
    from saleor_crm_plugin.tenants.services import register_tenant

    ports: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports, totals, customers), daemon=True)
    server.start()
    api_url = f"http://127.0.0.1:{ports.get(timeout=30)}/graphql/"
    try:
        import io

        end = START + timedelta(seconds=args.orders * 37 + 86400 * 7)
        load_rates(io.StringIO(rates_csv(START, end)))
        tenant = register_tenant(api_url=api_url, app_token="bench", base_currency="EUR")

        fetch_s, bodies = fetch_floor(api_url, totals)
        write_s = write_floor(bodies)
        del bodies
        started = time.perf_counter()
        if args.profile:
            import cProfile

            with cProfile.Profile() as profiler:
                summary = backfill(tenant, page_size=PAGE, drain_every=args.drain_every)
            profiler.dump_stats(args.profile)
        else:
            summary = backfill(tenant, page_size=PAGE, drain_every=args.drain_every)
        backfill_s = time.perf_counter() - started
    finally:
        server.terminate()

    floor = fetch_s + write_s
    orders = OrderRecord.objects.count()
    nodes = totals["customers"] + args.orders
    report = {
        "orders": args.orders,
        "customers": totals["customers"],
        "order_records": orders,
        "profiles": Profile.objects.count(),
        "failed": summary.applied.failed,
        "floor_fetch_s": round(fetch_s, 2),
        "floor_write_s": round(write_s, 2),
        "backfill_s": round(backfill_s, 2),
        "ratio_to_floor": round(backfill_s / floor, 2),
        "nodes_per_s": round(nodes / backfill_s),
        "minutes_for_1m_orders": round(1_000_000 / args.orders * backfill_s / 60, 1),
    }
    print(json.dumps(report, indent=2))
    return 0 if orders == args.orders and summary.applied.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
