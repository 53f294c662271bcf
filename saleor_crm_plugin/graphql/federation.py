"""Apollo Federation: the CRM as a subgraph that adds ``crmProfile`` to Saleor's ``User``.

A plugin cannot add fields to Saleor's schema, but a federation gateway can: Saleor already
serves its graph as a subgraph (``User`` has keys ``id`` and ``email``), so a gateway composing
Saleor's graph with ours lets a storefront ask ``me { crmProfile { ... } }`` in one query.

graphene 2 has no federation support and graphene-federation's graphene 2 line is unmaintained,
so the three pieces of the subgraph protocol are written here by hand:

- ``_service { sdl }``: our schema with ``User`` printed as a federation-1 extension of Saleor's
  (``extend type User @key(fields: "id") @key(fields: "email")``). Federation-2 composition
  (Apollo Router, Cosmo) accepts federation-1 subgraphs, and Saleor's own subgraph is
  federation-1, so one SDL serves both.
- ``_entities(representations:)``: turns ``{"__typename": "User", "id": ...}`` (or ``"email"``)
  into a reference whose ``crmProfile`` is looked up in the caller's tenant, all of a list's
  profiles in one query.
- ``_Any``/``_Entity``/``_Service``: the spec's types.

``crmProfile`` applies the rules of ``crmCustomer`` and ``crmMe``: staff or apps holding
MANAGE_USERS see anyone's profile, everybody else only their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import graphene
from graphql.language import ast
from graphql.utils.schema_printer import print_schema
from promise import Promise

from ..inbox.saleor_payloads import normalize_email
from ..profiles.models import Profile
from .core.context import crm_context
from .core.errors import InvalidInput, PermissionDenied
from .core.limits import MAX_COST
from .core.money import CRMMoney, money
from .core.permissions import MANAGE_USERS, require_customer, require_permission
from .profiles.dataloaders import ProfileByUserKeyLoader
from .profiles.types import _ProfileFields

ENTITY_TYPENAME = "User"
# Saleor's User declares both keys; a gateway may join on either.
KEY_FIELDS = ("id", "email")
# Only the protocol's own names are hidden from the SDL; the gateway adds them itself.
FEDERATION_TYPE_NAMES = frozenset({"_Any", "_Entity", "_Service"})
FEDERATION_QUERY_FIELDS = ("_entities", "_service")


class FederationAny(graphene.Scalar):
    """The spec's ``_Any``: an entity representation, passed through as a JSON object."""

    class Meta:
        name = "_Any"

    @staticmethod
    def serialize(value: Any) -> Any:
        return value

    @staticmethod
    def parse_value(value: Any) -> Any:
        return value

    @staticmethod
    def parse_literal(node: ast.Value) -> Any:
        return _literal(node)


def _literal(node: ast.Value) -> Any:
    """Gateways send representations as variables; this keeps inline literals working too."""
    if isinstance(node, ast.ObjectValue):
        return {field.name.value: _literal(field.value) for field in node.fields}
    if isinstance(node, ast.ListValue):
        return [_literal(value) for value in node.values]
    if isinstance(node, ast.IntValue):
        return int(node.value)
    if isinstance(node, ast.FloatValue):
        return float(node.value)
    if isinstance(node, ast.BooleanValue):
        return bool(node.value)
    if isinstance(node, ast.StringValue | ast.EnumValue):
        return node.value
    return None


class FederationService(graphene.ObjectType):
    class Meta:
        name = "_Service"

    sdl = graphene.String()


class CRMUserProfile(graphene.ObjectType, _ProfileFields):
    """The customer-visible part of a profile, the only part a customer may read of themselves.

    Staff who need refunds, net spend or the timeline use ``crmCustomer(userId:)``.
    """

    spent_gross = graphene.Field(
        CRMMoney, required=True, description="Gross order totals in the store's base currency."
    )

    @staticmethod
    def resolve_spent_gross(root: Profile, info: Any) -> CRMMoney:
        return money(root.spent_gross_minor, root.tenant.base_currency)


@dataclass(frozen=True)
class UserReference:
    """A Saleor user as the gateway names it, by id or by e-mail: we hold nothing else about
    the entity itself."""

    id: str | None = None
    email: str | None = None


def visible_profile(info: Any, ref: UserReference) -> Promise:
    """The profile of ``ref`` if the caller may see it, with the rules of crmCustomer/crmMe.

    Raises (or rejects with) PermissionDenied otherwise, so a customer never learns whether
    another customer has a profile at all. Lookups of a whole ``_entities`` list are batched.
    """
    principal = crm_context(info).principal
    loader = crm_context(info).loader(ProfileByUserKeyLoader)
    if principal.has(MANAGE_USERS):
        tenant = require_permission(info, MANAGE_USERS)
        return loader.load(_key(tenant, ref))
    tenant, own_user_id = require_customer(info)
    own_email = normalize_email(principal.email)
    if (ref.id and ref.id != own_user_id) or (ref.email and ref.email != own_email):
        raise PermissionDenied(
            f"You can only see your own CRM profile; others need the {MANAGE_USERS} permission."
        )

    def only_own(profile: Profile | None) -> Profile | None:
        if profile is not None and profile.user_id != own_user_id:
            raise PermissionDenied("Not your profile.")
        return profile

    return loader.load(_key(tenant, ref)).then(only_own)


def _key(tenant: Any, ref: UserReference) -> tuple[Any, str, str]:
    return (tenant, "id", ref.id) if ref.id else (tenant, "email", ref.email or "")


class SaleorUser(graphene.ObjectType):
    """Saleor's ``User``, extended here; Saleor owns every field but ``crmProfile``."""

    class Meta:
        name = ENTITY_TYPENAME

    id = graphene.ID(required=True, description="Saleor's User id.")
    email = graphene.String(required=True, description="Saleor's User e-mail.")
    crm_profile = graphene.Field(
        CRMUserProfile,
        description=(
            "The CRM's profile of this user; null before any activity. Staff need MANAGE_USERS; "
            "a customer sees only their own."
        ),
    )

    @staticmethod
    def resolve_id(root: UserReference, info: Any) -> str | None:
        return root.id  # a gateway that joined by e-mail gets the id from Saleor

    @staticmethod
    def resolve_email(root: UserReference, info: Any) -> str | None:
        return root.email

    @staticmethod
    def resolve_crm_profile(root: UserReference, info: Any) -> Promise:
        return visible_profile(info, root)


class FederationEntity(graphene.Union):
    class Meta:
        name = "_Entity"
        types = (SaleorUser,)

    @classmethod
    def resolve_type(cls, instance: Any, info: Any) -> type[graphene.ObjectType] | None:
        return SaleorUser if isinstance(instance, UserReference) else None


def user_reference(representation: Any) -> UserReference:
    """Check a representation and key it by Saleor's canonical global id.

    Profiles and tokens hold the id exactly as Saleor encodes it; re-encoding the decoded id
    compares on that form (stray whitespace in a hand-written representation does not matter),
    and an id of another type (an Order's, say) is refused rather than looked up.
    """
    if not isinstance(representation, dict):
        raise InvalidInput("A representation must be an object.", field="representations")
    typename = representation.get("__typename")
    if typename != ENTITY_TYPENAME:
        raise InvalidInput(f"{typename!r} is not an entity here.", field="representations")
    raw = representation.get("id")
    if raw is None:
        email = normalize_email(representation.get("email"))
        if "@" not in email:
            raise InvalidInput(
                "A User representation needs its id or email.", field="representations"
            )
        return UserReference(email=email)
    try:
        kind, pk = graphene.Node.from_global_id(raw)
    except (TypeError, ValueError, UnicodeDecodeError):
        kind, pk = "", ""
    if kind != ENTITY_TYPENAME or not pk:
        raise InvalidInput("Invalid User id in a representation.", field="representations")
    return UserReference(id=graphene.Node.to_global_id(ENTITY_TYPENAME, pk))


def resolve_representations(representations: list[Any]) -> list[UserReference | Exception]:
    """One entity per representation, in order; a bad one becomes that entry's error only."""
    if len(representations) > MAX_COST:
        raise InvalidInput(
            f"At most {MAX_COST} representations per request.", field="representations"
        )
    entities: list[UserReference | Exception] = []
    for representation in representations:
        try:
            entities.append(user_reference(representation))
        except InvalidInput as exc:
            # graphql-core 2 reports a returned exception at its list index and nulls that entry.
            entities.append(exc)
    return entities


def _is_protocol_field(line: str) -> bool:
    name = line.strip().split("(", 1)[0].split(":", 1)[0]
    return name in FEDERATION_QUERY_FIELDS


def subgraph_sdl(schema: Any) -> str:
    """Our schema as the gateway must see it: ``User`` extends Saleor's, no protocol fields.

    graphql-core 2 prints one definition per block, without descriptions or directives, so
    the federation directives are added to the printed text block by block.
    """
    blocks = []
    for block in print_schema(schema).strip().split("\n\n"):
        head, _, rest = block.partition("\n")
        words = head.split()
        name = words[1] if len(words) > 1 else ""
        if name in FEDERATION_TYPE_NAMES:
            continue
        if head == f"type {ENTITY_TYPENAME} {{":
            keys = " ".join(f'@key(fields: "{k}")' for k in KEY_FIELDS)
            head = f"extend type {ENTITY_TYPENAME} {keys} {{"
            rest = "\n".join(
                f"{line} @external" if line.strip().split(":")[0] in KEY_FIELDS else line
                for line in rest.splitlines()
            )
        elif head == f"type {schema.get_query_type().name} {{":
            rest = "\n".join(line for line in rest.splitlines() if not _is_protocol_field(line))
        blocks.append(f"{head}\n{rest}" if rest else head)
    return "\n\n".join(blocks) + "\n"


class FederationQueries(graphene.ObjectType):
    entities = graphene.List(
        FederationEntity,
        name="_entities",
        required=True,
        representations=graphene.List(graphene.NonNull(FederationAny), required=True),
    )
    service = graphene.Field(FederationService, name="_service", required=True)

    @staticmethod
    def resolve_entities(
        root: Any, info: Any, representations: list[Any]
    ) -> list[UserReference | Exception]:
        return resolve_representations(representations)

    @staticmethod
    def resolve_service(root: Any, info: Any) -> FederationService:
        return FederationService(sdl=subgraph_sdl(info.schema))
