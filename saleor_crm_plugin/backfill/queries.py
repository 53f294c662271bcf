"""What the backfill asks Saleor for, and which webhook each answer stands in for.

The query texts live once in ``saleor_documents`` (shared with the webhook subscriptions, so a
backfilled node has exactly the fields a live payload has) and equal, byte for byte, the queries
of the recorded backfill pages in ``shared/saleor/fixtures/graphql``.

Both connections are sorted by creation, newest first: the most recent customers and orders
(the ones a merchant looks at first) arrive first, and what is created while the backfill runs
comes in through the webhooks anyway, so the cursors never need to chase the front.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import saleor_documents

# Saleor refuses ``first`` above 100 on every connection.
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Resource:
    name: str  # also the ``resource`` of its BackfillCursor
    root: str  # the connection field of the query
    event: str  # the webhook a node is wrapped as
    typename: str  # that webhook's ``__typename``
    key: str  # where that webhook carries the object

    @property
    def query(self) -> str:
        return saleor_documents.backfill(self.name)


# In this order: customers first, so orders of registered customers find their profile filled;
# then orders, so a checkout that became an order is known as completed; then the checkouts
# Saleor still holds (it deletes a checkout when it becomes an order), for recovery.
RESOURCES: tuple[Resource, ...] = (
    Resource("customers", "customers", "customer_updated", "CustomerUpdated", "user"),
    Resource("orders", "orders", "order_updated", "OrderUpdated", "order"),
    Resource("checkouts", "checkouts", "checkout_updated", "CheckoutUpdated", "checkout"),
)


def variables(page_size: int, after: str | None) -> dict[str, Any]:
    """The variables of one page; ``after`` is None for the first page (as recorded)."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
    return {"first": page_size, "after": after or None}
