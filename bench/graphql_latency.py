"""``crmMe`` and ``crmCustomer`` latency against a minimal graphene query on the same server.

Usage (PostgreSQL from ``DATABASE_URL``; the database is dropped and recreated)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
      .venv/bin/python bench/graphql_latency.py --customers 3000 --requests 500

The demo store (``saleor-crm demo``'s generator, 3,000 customers by default) is replayed through
the signed webhook door into the real server (``saleor-crm serve``, two uvicorn workers) and
applied. Then one client with a kept-alive connection asks, in turn for random registered
customers: ``crmMe`` with that customer's own Saleor token, ``crmCustomer(userId:)`` with a staff
token holding MANAGE_USERS, and the **floor**, ``{ __typename }``, the least a graphene query on
the same endpoint costs (same view, same token check, same JSON). Latency is p50/p99 of
``--requests`` each, after 50 warm-up requests; figures are ratios to the floor's.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ME = """query { crmMe { ordersCount lastOrderAt totalSpent { amount currency }
  points { available pending } tier { name nextTier missingForNext } referral { code } } }"""
CUSTOMER = """query($u: ID) { crmCustomer(userId: $u) { id email ordersCount
  totalSpent { amount currency } refundRate channels
  totalsByCurrency { currency orders total { amount currency } } } }"""
FLOOR = "query { __typename }"


def customer_token(signer: Any, api_url: str, user_id: str, email: str) -> str:
    """A customer's access token as Saleor issues it (not staff, no permissions)."""
    import jwt

    now = int(time.time())
    claims = {
        "iat": now,
        "exp": now + 3600,
        "iss": api_url,
        "owner": "saleor",
        "type": "access",
        "user_id": user_id,
        "email": email,
        "is_staff": False,
        "permissions": [],
        "token": "bench",
    }
    return str(
        jwt.encode(claims, signer.private_key, algorithm="RS256", headers={"kid": signer.kid})
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()

    import requests

    from bench.ingestion import prepare_store

    store = prepare_store(args.customers, port=args.port, applier=True)
    try:
        store.replay_all()
        from saleor_crm_plugin.profiles.models import Profile

        people = list(
            Profile.objects.filter(user_id__isnull=False, orders_count__gt=0).values_list(
                "user_id", "email"
            )[:2000]
        )
        print(f"{Profile.objects.count():,} profiles, {len(people):,} registered buyers asked for")
        rng = random.Random(11)
        staff = store.signer.access_token(
            store.api_url, user_id="VXNlcjox", permissions=["MANAGE_USERS"], ttl=3600
        )
        tokens = {u: customer_token(store.signer, store.api_url, u, e) for u, e in people}
        url = f"{store.base}/graphql/"
        session = requests.Session()

        def ask(kind: str) -> float:
            user_id, _ = rng.choice(people)
            if kind == "me":
                body: dict[str, Any] = {"query": ME}
                token = tokens[user_id]
            elif kind == "customer":
                body = {"query": CUSTOMER, "variables": {"u": user_id}}
                token = staff
            else:
                body = {"query": FLOOR}
                token = staff
            start = time.perf_counter()
            response = session.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
            took = time.perf_counter() - start
            payload = response.json()
            if response.status_code != 200 or payload.get("errors"):
                raise SystemExit(f"{kind}: {response.status_code} {payload}")
            if (
                kind != "floor"
                and not payload["data"][f"crm{'Me' if kind == 'me' else 'Customer'}"]
            ):
                raise SystemExit(f"{kind}: no profile for {user_id}")
            return took

        kinds = ("floor", "me", "customer")
        for _ in range(50):
            for kind in kinds:
                ask(kind)
        times: dict[str, list[float]] = {k: [] for k in kinds}
        for _ in range(args.requests):
            for kind in kinds:  # interleaved, so background load hits all three alike
                times[kind].append(ask(kind))
        floor50 = statistics.median(times["floor"])
        floor99 = percentile(times["floor"], 0.99)
        print("| query | p50 | p99 | p50 ratio | p99 ratio |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for kind, label in (
            ("floor", "`{ __typename }` (floor)"),
            ("me", "`crmMe`"),
            ("customer", "`crmCustomer(userId:)`"),
        ):
            p50, p99 = statistics.median(times[kind]), percentile(times[kind], 0.99)
            print(
                f"| {label} | {p50 * 1000:.1f} ms | {p99 * 1000:.1f} ms | "
                f"{p50 / floor50:.2f} | {p99 / floor99:.2f} |"
            )
    finally:
        store.stop()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
    raise SystemExit(main())
