"""KPIs, cohorts and currency exposure for staff who may read customers (MANAGE_USERS)."""

from __future__ import annotations

from typing import Any

import graphene
from django.utils import timezone

from ...conf import crm_settings
from ...kpis.cohorts import cohorts
from ...kpis.errors import InvalidReport
from ...kpis.exposure import currency_exposure
from ...kpis.queries import Report
from ...kpis.types import Slice
from ...tenants.models import Tenant
from ..core.errors import InvalidInput
from ..core.permissions import MANAGE_USERS, require_permission
from .types import (
    CRMCohort,
    CRMCurrencyExposure,
    CRMKpiInterval,
    CRMKpis,
    CRMPeriodInput,
    KpiView,
)


def _slice_arguments() -> dict[str, Any]:
    return {
        "period": CRMPeriodInput(required=True),
        "channel": graphene.String(description="Only orders in this channel (slug)."),
        "country": graphene.String(description="Only orders to this country (ISO 3166 code)."),
        "time_zone": graphene.String(
            description="Whose midnights bound days and months; CRM_STORE_TIME_ZONE by default."
        ),
    }


def _slice(
    info: Any, period: dict[str, Any], channel: str | None, country: str | None, tz: str | None
) -> tuple[Tenant, Slice]:
    tenant = require_permission(info, MANAGE_USERS)
    try:
        where = Slice.of_days(
            period["from_"],
            period["to"],
            tz or crm_settings.STORE_TIME_ZONE,
            channel or "",
            country or "",
        )
    except InvalidReport as exc:
        raise InvalidInput(str(exc), field=exc.field) from exc
    return tenant, where


class KpiQueries(graphene.ObjectType):
    crm_kpis = graphene.Field(
        CRMKpis,
        required=True,
        interval=CRMKpiInterval(description="Step of the charts; MONTH when omitted."),
        description="KPIs of a period in the base currency; see docs/kpis.md. MANAGE_USERS.",
        **_slice_arguments(),
    )
    crm_cohorts = graphene.List(
        graphene.NonNull(CRMCohort),
        required=True,
        description="Retention by first-purchase month, for cohorts starting in the period. "
        "MANAGE_USERS.",
        **_slice_arguments(),
    )
    crm_currency_exposure = graphene.Field(
        CRMCurrencyExposure,
        required=True,
        description="Revenue by currency and month, at order-time and today's rates. MANAGE_USERS.",
        **_slice_arguments(),
    )

    @staticmethod
    def resolve_crm_kpis(
        root: Any,
        info: Any,
        period: dict[str, Any],
        interval: str | None = None,
        channel: str | None = None,
        country: str | None = None,
        time_zone: str | None = None,
    ) -> KpiView:
        tenant, where = _slice(info, period, channel, country, time_zone)
        try:
            return KpiView(Report(tenant, where, timezone.now(), interval or "month"))
        except InvalidReport as exc:
            raise InvalidInput(str(exc), field=exc.field) from exc

    @staticmethod
    def resolve_crm_cohorts(
        root: Any,
        info: Any,
        period: dict[str, Any],
        channel: str | None = None,
        country: str | None = None,
        time_zone: str | None = None,
    ) -> list[CRMCohort]:
        tenant, where = _slice(info, period, channel, country, time_zone)
        return [CRMCohort.from_cohort(c) for c in cohorts(tenant, where, timezone.now())]

    @staticmethod
    def resolve_crm_currency_exposure(
        root: Any,
        info: Any,
        period: dict[str, Any],
        channel: str | None = None,
        country: str | None = None,
        time_zone: str | None = None,
    ) -> CRMCurrencyExposure:
        tenant, where = _slice(info, period, channel, country, time_zone)
        return CRMCurrencyExposure.from_exposure(currency_exposure(tenant, where, timezone.now()))
