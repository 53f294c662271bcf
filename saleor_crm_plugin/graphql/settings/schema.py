"""The store's CRM settings for staff: read them with their help texts, save them (app door).

In the plugin the same settings live in Saleor's dashboard (Plugins > CRM), which validates and
saves them; saving here is refused there, so there is one place to change them.
"""

from __future__ import annotations

from typing import Any

import graphene

from ...tenants import store_settings
from ...tenants.models import Tenant
from ...tenants.services import PLUGIN_TENANT_URL
from ..core.errors import CRMGraphQLError, InvalidInput
from ..core.permissions import MANAGE_USERS, require_permission


class CRMSetting(graphene.ObjectType):
    name = graphene.String(required=True)
    label = graphene.String(required=True)
    help_text = graphene.String(required=True)
    value = graphene.String(required=True)


def _settings(tenant: Tenant) -> list[CRMSetting]:
    values = store_settings.current_items(tenant)
    return [
        CRMSetting(name=name, label=label, help_text=help_text, value=values.get(name, ""))
        for name, (label, help_text) in store_settings.HELP.items()
    ]


class SettingsQueries(graphene.ObjectType):
    crm_store_settings = graphene.List(
        graphene.NonNull(CRMSetting),
        required=True,
        description="The store's CRM settings with their labels and help. MANAGE_USERS.",
    )

    @staticmethod
    def resolve_crm_store_settings(root: Any, info: Any) -> list[CRMSetting]:
        return _settings(require_permission(info, MANAGE_USERS))


class SettingsMutations(graphene.ObjectType):
    crm_store_settings_save = graphene.Field(
        graphene.List(graphene.NonNull(CRMSetting), required=True),
        settings=graphene.JSONString(
            required=True,
            description='Settings to change by name, e.g. {"recovery_delays_hours": "1,24"}.',
        ),
        description="Change the store's CRM settings; all or nothing. MANAGE_USERS.",
    )

    @staticmethod
    def resolve_crm_store_settings_save(root: Any, info: Any, settings: Any) -> list[CRMSetting]:
        tenant = require_permission(info, MANAGE_USERS)
        if tenant.saleor_api_url == PLUGIN_TENANT_URL:
            raise CRMGraphQLError(
                "The CRM runs as a Saleor plugin here: change its settings in Saleor's "
                "dashboard under Configuration > Plugins > CRM."
            )
        if not isinstance(settings, dict):
            raise InvalidInput(
                'Give an object of settings by name, e.g. {"send_window": "09:00-20:00"}.',
                field="settings",
            )
        try:
            store_settings.save(tenant, settings)
        except store_settings.InvalidSettings as exc:
            field, message = next(iter(exc.problems.items()))
            raise InvalidInput(str(exc), field=field) from exc
        return _settings(tenant)
