"""Saleor's voucher API on loopback for personal discounts: the loyalty tests' stand-in, plus
the code lookup, Saleor's refusal of a code already taken, and an outage switch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.loopback import Request
from tests.loyalty.test_rewards import SaleorDiscounts

CHANNELS = {
    "channel-eur": ("Q2hhbm5lbDoz", "EUR"),
    "channel-jpy": ("Q2hhbm5lbDo0", "JPY"),
    "default": ("Q2hhbm5lbDo1", "EUR"),
}


class SaleorVouchers(SaleorDiscounts):
    def __init__(self) -> None:
        self.down = False  # answer 503, as a Saleor being deployed does
        super().__init__()

    def by_code(self, code: str) -> list[dict]:
        return [v for v in self.vouchers.values() if code in v["input"]["addCodes"]]

    def graphql(self, request: Request) -> tuple[int, object]:
        if self.down:
            return 503, {"errors": [{"message": "Service Unavailable"}]}
        body = request.json()
        query, variables = body["query"], body["variables"]
        if "CRMChannel" in query:
            found = CHANNELS.get(variables["slug"])
            return 200, {"data": {"channel": found and {"id": found[0], "currencyCode": found[1]}}}
        if "CRMVoucherCreate" in query and self.by_code(variables["input"]["addCodes"][0]):
            taken = [{"field": "addCodes", "code": "ALREADY_EXISTS", "message": "taken"}]
            return 200, {"data": {"voucherCreate": {"voucher": None, "errors": taken}}}
        if "CRMVoucherByCode" in query:
            edges = [
                {"node": {"id": pk, "code": variables["code"], "endDate": v["input"]["endDate"]}}
                for pk, v in self.vouchers.items()
                if variables["code"] in v["input"]["addCodes"]
            ]
            return 200, {"data": {"vouchers": {"edges": edges}}}
        return super().graphql(request)


@pytest.fixture
def saleor(tenant) -> Iterator[SaleorVouchers]:
    server = SaleorVouchers()
    tenant.saleor_api_url = server.api_url  # the store's Saleor now answers on loopback
    tenant.save(update_fields=["saleor_api_url"])
    yield server
    server.close()
