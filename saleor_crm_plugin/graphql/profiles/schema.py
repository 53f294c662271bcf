from __future__ import annotations

from typing import Any

import graphene

from ...loyalty.standing import standing_of
from ...money.currencies import minor_units
from ...profiles import queries
from ...profiles.models import Profile
from ...segments.groups import GROUPS, STAGES
from ..core.context import crm_context
from ..core.errors import InvalidInput
from ..core.limits import MAX_PAGE
from ..core.permissions import MANAGE_USERS, require_customer, require_permission
from ..core.selection import selected_fields
from ..loyalty.tiers import remember_program
from ..loyalty.types import PointsBalanceLoader
from .types import CRMCustomer, CRMCustomerCountableConnection, CRMCustomerEdge, CRMMe, CRMPageInfo


class CRMCustomerSortField(graphene.Enum):
    LAST_ORDER = queries.SortField.LAST_ORDER.value
    FIRST_ORDER = queries.SortField.FIRST_ORDER.value
    SPENT = queries.SortField.SPENT.value
    ORDERS = queries.SortField.ORDERS.value
    CREATED = queries.SortField.CREATED.value


class CRMOrderDirection(graphene.Enum):
    ASC = "asc"
    DESC = "desc"


class CRMCustomerSortingInput(graphene.InputObjectType):
    field = CRMCustomerSortField(required=True)
    direction = CRMOrderDirection(required=True)


class CRMDateRangeInput(graphene.InputObjectType):
    gte = graphene.DateTime()
    lt = graphene.DateTime()


class CRMDecimalRangeInput(graphene.InputObjectType):
    gte = graphene.Float(description="In the store's base currency.")
    lte = graphene.Float()


class CRMIntRangeInput(graphene.InputObjectType):
    gte = graphene.Int()
    lte = graphene.Int()


class CRMCustomerFilterInput(graphene.InputObjectType):
    search = graphene.String(description="Part of the e-mail, name, a staff note or a tag.")
    tags = graphene.List(graphene.NonNull(graphene.String), description="Any of these tags.")
    total_spent = graphene.Field(CRMDecimalRangeInput)
    orders_count = graphene.Field(CRMIntRangeInput)
    countries = graphene.List(graphene.NonNull(graphene.String))
    languages = graphene.List(graphene.NonNull(graphene.String))
    channels = graphene.List(graphene.NonNull(graphene.String))
    last_order = graphene.Field(CRMDateRangeInput)
    first_order = graphene.Field(CRMDateRangeInput)
    is_guest = graphene.Boolean()
    rfm_groups = graphene.List(
        graphene.NonNull(graphene.String),
        description="Any of these RFM groups, e.g. champions, at_risk (docs/segments.md).",
    )
    stages = graphene.List(
        graphene.NonNull(graphene.String),
        description="Any of these lifecycle stages: new, active, at_risk, dormant, lost.",
    )
    tiers = graphene.List(
        graphene.NonNull(graphene.String),
        description="Any of these loyalty tiers held now, by name as in the tier rules.",
    )


def _to_minor(value: float | None, currency: str) -> int | None:
    if value is None:
        return None
    return round(value * 10 ** minor_units(currency))


def _names(given: list[str] | None, known: tuple[str, ...], field: str) -> tuple[str, ...]:
    """Names checked against the known ones, so a typo is an error, not an empty list."""
    wanted = tuple(dict.fromkeys(n.strip().lower() for n in given or ()))
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise InvalidInput(
            f"Unknown {field} {', '.join(unknown)}; use {', '.join(known)}.", field=field
        )
    return wanted


def _filter(data: dict[str, Any] | None, currency: str) -> queries.ProfileFilter:
    data = data or {}
    spent = data.get("total_spent") or {}
    orders = data.get("orders_count") or {}
    last = data.get("last_order") or {}
    first = data.get("first_order") or {}
    return queries.ProfileFilter(
        spent_min_minor=_to_minor(spent.get("gte"), currency),
        spent_max_minor=_to_minor(spent.get("lte"), currency),
        orders_min=orders.get("gte"),
        orders_max=orders.get("lte"),
        countries=tuple(data.get("countries") or ()),
        languages=tuple(data.get("languages") or ()),
        channels=tuple(data.get("channels") or ()),
        last_order_from=last.get("gte"),
        last_order_to=last.get("lt"),
        first_order_from=first.get("gte"),
        first_order_to=first.get("lt"),
        search=data.get("search") or "",
        is_guest=data.get("is_guest"),
        rfm_groups=_names(data.get("rfm_groups"), GROUPS, "rfmGroups"),
        stages=_names(data.get("stages"), STAGES, "stages"),
        tags=tuple(data.get("tags") or ()),
        tiers=tuple(dict.fromkeys(t.strip() for t in data.get("tiers") or () if t.strip())),
    )


def _profile_pk(global_id: str) -> int:
    try:
        kind, pk = graphene.Node.from_global_id(global_id)
        if kind != "CRMCustomer":
            raise ValueError(kind)
        return int(pk)
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput("Invalid CRMCustomer id.", field="id") from exc


class ProfileQueries(graphene.ObjectType):
    crm_customer = graphene.Field(
        CRMCustomer,
        id=graphene.ID(description="CRM profile id."),
        user_id=graphene.ID(description="Saleor User id."),
        email=graphene.String(),
        description="One customer's profile and timeline. Requires MANAGE_USERS.",
    )
    crm_customers = graphene.Field(
        CRMCustomerCountableConnection,
        required=True,
        first=graphene.Int(default_value=20),
        after=graphene.String(),
        filter=CRMCustomerFilterInput(),
        sort_by=CRMCustomerSortingInput(),
        description="Customers with filters and Relay pagination. Requires MANAGE_USERS.",
    )
    crm_me = graphene.Field(
        CRMMe, description="The signed-in customer's own profile; null before any activity."
    )

    @staticmethod
    def resolve_crm_customer(
        root: Any, info: Any, id: str | None = None, user_id: str | None = None, email: str = ""
    ) -> Profile | None:
        tenant = require_permission(info, MANAGE_USERS)
        if sum(bool(x) for x in (id, user_id, email)) != 1:
            raise InvalidInput("Give exactly one of id, userId or email.", field="id")
        return queries.find_profile(
            tenant, profile_id=_profile_pk(id) if id else None, user_id=user_id, email=email
        )

    @staticmethod
    def resolve_crm_customers(
        root: Any,
        info: Any,
        first: int = 20,
        after: str | None = None,
        filter: dict[str, Any] | None = None,
        sort_by: dict[str, Any] | None = None,
    ) -> CRMCustomerCountableConnection:
        tenant = require_permission(info, MANAGE_USERS)
        if not 0 < first <= MAX_PAGE:
            raise InvalidInput(f"first must be between 1 and {MAX_PAGE}.", field="first")
        sort = (sort_by or {}).get("field") or queries.SortField.LAST_ORDER.value
        direction = (sort_by or {}).get("direction") or "desc"
        try:
            page = queries.search_profiles(
                tenant,
                _filter(filter, tenant.base_currency),
                sort=queries.SortField(sort),
                descending=direction == "desc",
                first=first,
                after=after,
            )
        except ValueError as exc:
            raise InvalidInput(str(exc), field="after") from exc
        return CRMCustomerCountableConnection(
            edges=[
                CRMCustomerEdge(node=p, cursor=c)
                for p, c in zip(page.items, page.cursors, strict=True)
            ],
            page_info=CRMPageInfo(
                has_next_page=page.has_next, end_cursor=page.cursors[-1] if page.cursors else None
            ),
            total_count=page.total,
        )

    @staticmethod
    def resolve_crm_me(root: Any, info: Any) -> Profile | None:
        tenant, user_id = require_customer(info)
        wanted = selected_fields(info)
        standing = standing_of(tenant, user_id, program="tier" in wanted, points="points" in wanted)
        if standing is None:  # read by the signed-in user's own id: never another's profile
            return None
        if standing.balance is not None:
            crm_context(info).loader(PointsBalanceLoader).prime(
                standing.profile.pk, standing.balance
            )
        if "tier" in wanted:
            remember_program(info, tenant, standing.program)
        return standing.profile
