"""The store's earning rules for staff: read the rules in force (or an earlier version), save
a new version."""

from __future__ import annotations

from typing import Any

import graphene

from ...loyalty import earning
from ...loyalty.models import EarningProgram
from ..core.context import crm_context
from ..core.errors import CRMGraphQLError, InvalidInput
from ..core.permissions import MANAGE_USERS, require_permission


class CRMEarningRules(graphene.ObjectType):
    version = graphene.Int(
        description="Null while the store has saved none: the installation's defaults apply."
    )
    rules = graphene.JSONString(
        required=True,
        description="points_per_unit, points_per_currency, return_days, signup_bonus, "
        "first_order_bonus, birthday_bonus, feedback_bonus, referral_friend_bonus, "
        "referral_advocate_bonus, expiry_days, inactivity_days, point_value, rewards.",
    )
    created_at = graphene.DateTime(description="When this version was saved; in force since.")
    created_by = graphene.String(description="Who saved it.")


def _shown(program: EarningProgram | None, tenant: Any) -> CRMEarningRules:
    if program is None:
        return CRMEarningRules(version=None, rules=earning.defaults().as_data())
    return CRMEarningRules(
        version=program.version,
        rules=earning.EarningRules.from_data(program.rules).as_data(),
        created_at=program.created_at,
        created_by=program.created_by,
    )


class EarningQueries(graphene.ObjectType):
    crm_earning_rules = graphene.Field(
        CRMEarningRules,
        required=True,
        version=graphene.Int(description="An earlier version; the rules in force when omitted."),
        description="What orders and bonus events earn, and what points buy. MANAGE_USERS.",
    )

    @staticmethod
    def resolve_crm_earning_rules(
        root: Any, info: Any, version: int | None = None
    ) -> CRMEarningRules:
        tenant = require_permission(info, MANAGE_USERS)
        if version is None:
            return _shown(earning.current_program(tenant), tenant)
        program = EarningProgram.objects.filter(tenant=tenant, version=version).first()
        if program is None:
            raise CRMGraphQLError(f"There is no version {version}.", field="version")
        return _shown(program, tenant)


class EarningMutations(graphene.ObjectType):
    crm_earning_rules_save = graphene.Field(
        CRMEarningRules,
        rules=graphene.JSONString(
            required=True,
            description='Rules to change by name, e.g. {"points_per_unit": "2", '
            '"return_days": 30}; the others keep their value.',
        ),
        description="Save the earning rules as a new version, for orders placed from now on; "
        "what earlier orders earned stays. All or nothing. MANAGE_USERS.",
    )

    @staticmethod
    def resolve_crm_earning_rules_save(root: Any, info: Any, rules: Any) -> CRMEarningRules:
        tenant = require_permission(info, MANAGE_USERS)
        principal = crm_context(info).principal
        by = principal.email or f"{principal.kind.value}:{principal.user_id or ''}"
        try:
            program = earning.save_rules(tenant, rules, by=by)
        except earning.InvalidEarningRules as exc:
            field = next(iter(exc.problems))
            raise InvalidInput(str(exc), field=field) from exc
        return _shown(program, tenant)
