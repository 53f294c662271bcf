"""The GraphQL documents we send to Saleor, each fragment kept once.

Subscription queries (webhook payloads) and backfill queries select the same fields, so both
doors see the same shapes; a field added to a fragment reaches every query that uses it.
The texts equal the queries Saleor's recorded deliveries answer (a test checks it).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

# The deletion queries must not select privateMetadata: Saleor checks permissions after the
# user is gone and then sends ``user: null`` (recorded deliveries 115 and 119).
_FRAGMENT_OF = {
    "customer_deleted": "user_without_private_metadata",
    "account_deleted": "user_without_private_metadata",
}


def _fragment_for(name: str) -> str:
    if name in _FRAGMENT_OF:
        return _FRAGMENT_OF[name]
    if name.startswith("order"):
        return "order"
    if name.startswith("checkout"):
        return "checkout"
    return "user"


def _read(*parts: str) -> str:
    return resources.files(__package__).joinpath(*parts).read_text(encoding="utf-8")


@cache
def subscription(event: str) -> str:
    """The subscription query of a webhook ``event`` (lower case, e.g. ``order_created``)."""
    return _read("subscriptions", f"{event}.graphql") + _read(
        "fragments", f"{_fragment_for(event)}.graphql"
    )


@cache
def backfill(resource: str) -> str:
    """The paginated query of a backfill ``resource`` (``customers`` or ``orders``)."""
    return _read("backfill", f"{resource}.graphql") + _read(
        "fragments", f"{_fragment_for(resource.replace('customers', 'user'))}.graphql"
    )
