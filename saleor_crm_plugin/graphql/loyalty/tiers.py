"""Tier rules for staff (versions, dry run, apply) and the customer's own tier."""

from __future__ import annotations

from collections import Counter
from typing import Any

import graphene

from ...loyalty import tiers
from ...loyalty.models import TierProgram
from ...profiles.models import Profile
from ..core.context import crm_context
from ..core.errors import CRMGraphQLError, InvalidInput
from ..core.permissions import MANAGE_USERS, require_permission


class CRMTierProgram(graphene.ObjectType):
    version = graphene.Int(required=True)
    rules = graphene.JSONString(required=True, description="basis, window, grace_days, tiers.")
    created_at = graphene.DateTime(required=True)
    created_by = graphene.String(required=True)


class CRMTierMove(graphene.ObjectType):
    email = graphene.String(required=True)
    from_tier = graphene.String()
    to_tier = graphene.String()
    amount = graphene.Int(
        required=True,
        description="Qualifying spend (minor units of `currency`) or points.",
    )
    currency = graphene.String(
        description="Currency of the spend: the customer's channel currency when the tiers give "
        "thresholds for it, else the base currency; empty for points."
    )


class CRMTierMoves(graphene.ObjectType):
    summary = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description='e.g. "42 customers would drop from Gold to Silver".',
    )
    moves = graphene.List(graphene.NonNull(CRMTierMove), required=True)


class CRMTier(graphene.ObjectType):
    """A customer's place in the tier program: also below the first tier, so a storefront can
    say what the first tier takes."""

    name = graphene.String(description="Null until the customer reaches the first tier.")
    since = graphene.DateTime(description="When the customer entered this tier.")
    next_tier = graphene.String(description="The next tier up, if any.")
    missing_for_next = graphene.Int(
        description="Spend (minor units of `currency`) or points still missing for it."
    )
    currency = graphene.String(
        description="Currency of missingForNext: the customer's channel currency when the tiers "
        "give thresholds for it, else the base currency; empty for points."
    )


def _summary(moves: list[tiers.Move], applied: bool, rules: tiers.TierRules) -> list[str]:
    rank = {t.name: i for i, t in enumerate(rules.tiers)}
    counts = Counter((m.from_tier, m.to_tier) for m in moves)
    lines = []
    for (src, dst), n in sorted(counts.items(), key=lambda kv: -kv[1]):
        who = f"{n} customer{'s' if n != 1 else ''}"
        if src is None:
            verb = "entered" if applied else "would enter"
            lines.append(f"{who} {verb} {dst}")
            continue
        up = dst is not None and rank.get(dst, -1) > rank.get(src, -1)
        verb = ("rose" if up else "dropped") if applied else ("would rise" if up else "would drop")
        lines.append(f"{who} {verb} from {src} to {dst or 'no tier'}")
    return lines


def _moves(moves: list[tiers.Move], applied: bool, rules: tiers.TierRules) -> CRMTierMoves:
    return CRMTierMoves(
        summary=_summary(moves, applied, rules),
        moves=[
            CRMTierMove(m.email, m.from_tier, m.to_tier, m.amount, m.currency or None)
            for m in moves
        ],
    )


def _currency(currency: str, rules: tiers.TierRules, base: str = "") -> str | None:
    if rules.basis == "points":
        return None
    return currency or base or None


def _rules(data: Any) -> tiers.TierRules:
    try:
        return tiers.TierRules.from_data(data if isinstance(data, dict) else {})
    except tiers.InvalidTierRules as exc:
        raise InvalidInput(str(exc), field="rules") from exc


def _program(tenant: Any) -> TierProgram:
    program = tiers.current_program(tenant)
    if program is None:
        raise CRMGraphQLError("No tier rules yet: save some with crmTierRulesSave.")
    return program


class TierQueries(graphene.ObjectType):
    crm_tier_program = graphene.Field(
        CRMTierProgram, description="The tier rules in force (latest version). MANAGE_USERS."
    )

    @staticmethod
    def resolve_crm_tier_program(root: Any, info: Any) -> TierProgram | None:
        return tiers.current_program(require_permission(info, MANAGE_USERS))


class TierMutations(graphene.ObjectType):
    crm_tier_rules_save = graphene.Field(
        CRMTierProgram,
        rules=graphene.JSONString(required=True),
        description="Save tier rules as a new version (earlier versions are kept). MANAGE_USERS.",
    )
    crm_tier_dry_run = graphene.Field(
        CRMTierMoves,
        rules=graphene.JSONString(description="Rules to try; the rules in force when omitted."),
        description="Who would change tier now, changing nothing. MANAGE_USERS.",
    )
    crm_tier_apply = graphene.Field(
        CRMTierMoves, description="Apply the rules in force now; returns who moved. MANAGE_USERS."
    )

    @staticmethod
    def resolve_crm_tier_rules_save(root: Any, info: Any, rules: Any) -> TierProgram:
        tenant = require_permission(info, MANAGE_USERS)
        by = crm_context(info).principal.email or crm_context(info).principal.kind.value
        return tiers.save_rules(tenant, _rules(rules), by=by)

    @staticmethod
    def resolve_crm_tier_dry_run(root: Any, info: Any, rules: Any = None) -> CRMTierMoves:
        tenant = require_permission(info, MANAGE_USERS)
        chosen = _rules(rules) if rules is not None else _rules(_program(tenant).rules)
        return _moves(tiers.dry_run(tenant, chosen), False, chosen)

    @staticmethod
    def resolve_crm_tier_apply(root: Any, info: Any) -> CRMTierMoves:
        tenant = require_permission(info, MANAGE_USERS)
        program = _program(tenant)
        return _moves(tiers.apply(tenant, program), True, _rules(program.rules))


def _program_key(tenant: Any) -> tuple[str, int]:
    return ("tier_program", tenant.pk)


def remember_program(info: Any, tenant: Any, program: TierProgram | None) -> None:
    """The rules in force, read by a resolver above (``crmMe`` reads them with the profile)."""
    crm_context(info).memo[_program_key(tenant)] = program


def resolve_tier(profile: Profile, info: Any) -> CRMTier | None:
    status = tiers.status_of(profile)
    # Once per request: a page of customers shares its store's rules.
    program = crm_context(info).once(
        _program_key(profile.tenant), lambda: tiers.current_program(profile.tenant)
    )
    if program is None:
        return None
    rules = tiers.TierRules.from_data(program.rules)
    names = [t.name for t in rules.tiers]
    if status is None:
        above = tuple(rules.tiers)
    else:
        above = rules.tiers[names.index(status.tier) + 1 :] if status.tier in names else ()
    missing, currency = None, ""
    if above:
        current, currency = tiers.qualifying_amount(profile, rules)
        entry = rules.thresholds(currency)[len(rules.tiers) - len(above)][0]
        missing = max(0, entry - current)
    return CRMTier(
        name=status.tier if status else None,
        since=status.since if status else None,
        next_tier=above[0].name if above else None,
        missing_for_next=missing,
        currency=_currency(currency, rules, profile.tenant.base_currency),
    )
