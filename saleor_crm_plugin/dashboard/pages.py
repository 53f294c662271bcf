"""Which dashboard pages exist and where Saleor's dashboard mounts them.

Pure data (no Django imports), so the manifest module can build ``extensions`` from it without
settings, exactly as it builds the webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Page:
    """One page of the front end, and the dashboard extension that opens it (if any)."""

    view: str  # path under /dashboard/, also the React view the shell boots
    label: str  # what the merchant reads on the dashboard's menu or action
    mount: str  # Saleor's AppExtensionMount
    target: str  # Saleor's AppExtensionTarget
    permissions: tuple[str, ...] = ("MANAGE_USERS",)


#: The CRM page opens inside the dashboard (APP_PAGE), widgets sit on the customer and order
#: pages, and the customer page's "more actions" menu opens the three actions in a popup.
PAGES: tuple[Page, ...] = (
    Page("crm", "CRM", "NAVIGATION_CUSTOMERS", "APP_PAGE"),
    Page("widgets/customer", "CRM profile", "CUSTOMER_DETAILS_WIDGETS", "WIDGET"),
    Page(
        "widgets/order",
        "Loyalty",
        "ORDER_DETAILS_WIDGETS",
        "WIDGET",
        ("MANAGE_USERS", "MANAGE_ORDERS"),
    ),
    Page(
        "actions/adjust-points", "Adjust loyalty points", "CUSTOMER_DETAILS_MORE_ACTIONS", "POPUP"
    ),
    Page("actions/export", "Export CRM data", "CUSTOMER_DETAILS_MORE_ACTIONS", "POPUP"),
    Page("actions/erase", "Erase CRM data", "CUSTOMER_DETAILS_MORE_ACTIONS", "POPUP"),
)

VIEWS: frozenset[str] = frozenset(p.view for p in PAGES)


def extensions(base: str) -> list[dict[str, Any]]:
    """The manifest's ``extensions`` for an app whose ``appUrl`` is ``{base}/dashboard``.

    Saleor accepts only a relative path for APP_PAGE (the dashboard joins it to ``appUrl``);
    the other targets get absolute URLs. Widgets load with GET: the dashboard appends the
    customer's or order's id to the query string, and the token comes over the app-bridge.
    """
    result: list[dict[str, Any]] = []
    for page in PAGES:
        entry: dict[str, Any] = {
            "label": page.label,
            "mount": page.mount,
            "target": page.target,
            "permissions": list(page.permissions),
            "url": f"/{page.view}"
            if page.target == "APP_PAGE"
            else f"{base}/dashboard/{page.view}",
        }
        if page.target == "WIDGET":
            entry["options"] = {"widgetTarget": {"method": "GET"}}
        result.append(entry)
    return result
