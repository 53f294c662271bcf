"""Creating reward vouchers and gift cards in Saleor: through its GraphQL API with the app token
(app door), or with its own models in the same database transaction (in-process plugin)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ..backfill.client import SaleorAPIError, SaleorGraphQL
from .rewards import Channel, RewardError

CHANNEL = "query CRMChannel($slug: String!) { channel(slug: $slug) { id currencyCode } }"
CREATE = """
mutation CRMVoucherCreate($input: VoucherInput!) {
  voucherCreate(input: $input) { voucher { id } errors { field code message } }
}
"""
LIST_IN_CHANNEL = """
mutation CRMVoucherChannel($id: ID!, $input: VoucherChannelListingInput!) {
  voucherChannelListingUpdate(id: $id, input: $input) { errors { field code message } }
}
"""
DELETE = "mutation CRMVoucherDelete($id: ID!) { voucherDelete(id: $id) { errors { message } } }"
FIND_BY_CODE = """
query CRMVoucherByCode($code: String!) {
  vouchers(first: 5, filter: {search: $code}) { edges { node { id code endDate } } }
}
"""
GIFT_CARD_CREATE = """
mutation CRMGiftCardCreate($input: GiftCardCreateInput!) {
  giftCardCreate(input: $input) { giftCard { id code } errors { field code message } }
}
"""
GIFT_CARD_DELETE = (
    "mutation CRMGiftCardDelete($id: ID!) { giftCardDelete(id: $id) { errors { message } } }"
)


def voucher_input(code: str, name: str) -> dict[str, Any]:
    """A fixed discount on the whole order, usable once, by anyone holding the code."""
    return {
        "name": name,
        "type": "ENTIRE_ORDER",
        "discountValueType": "FIXED",
        "addCodes": [code],
        "singleUse": True,
        "usageLimit": 1,
    }


def personal_voucher_input(
    code: str, name: str, *, percentage: bool, ends_at: datetime
) -> dict[str, Any]:
    """A discount on the whole order for one customer: one use, unguessable code, expiring.

    Saleor's vouchers cannot name the customer's e-mail, so "for that customer" rests on the
    code (sent only to them, derived from a secret) and on one use in total."""
    return {
        "name": name,
        "type": "ENTIRE_ORDER",
        "discountValueType": "PERCENTAGE" if percentage else "FIXED",
        "addCodes": [code],
        "singleUse": True,
        "usageLimit": 1,
        "applyOncePerCustomer": True,
        "endDate": ends_at.isoformat(),
    }


def _already_exists(result: dict[str, Any]) -> bool:
    return any(e.get("code") in ("ALREADY_EXISTS", "UNIQUE") for e in result.get("errors") or [])


class SaleorAPIIssuer:
    """The app door: three calls, and the voucher deleted again if its channel listing fails."""

    def __init__(self, api_url: str, token: str) -> None:
        # One attempt: creating is not idempotent, and the redemption is rolled back anyway.
        self.client = SaleorGraphQL(api_url, token, attempts=1)

    def issue(self, *, code: str, amount: Decimal, channel: Channel, name: str) -> str:
        try:
            found = self.client.execute(CHANNEL, {"slug": channel.slug}).get("channel")
            if not found or found.get("currencyCode") != channel.currency:
                raise RewardError(f"Saleor has no channel {channel.slug} in {channel.currency}")
            created = self.client.execute(CREATE, {"input": voucher_input(code, name)})
            result = created["voucherCreate"]
            _refuse_on(result)
            voucher_id = str(result["voucher"]["id"])
            listing = {"addChannels": [{"channelId": found["id"], "discountValue": str(amount)}]}
            listed = self.client.execute(LIST_IN_CHANNEL, {"id": voucher_id, "input": listing})
            try:
                _refuse_on(listed["voucherChannelListingUpdate"])
            except RewardError:
                self.client.execute(DELETE, {"id": voucher_id})
                raise
            return voucher_id
        except SaleorAPIError as exc:
            raise RewardError(str(exc)) from exc
        finally:
            self.client.close()

    def issue_personal(
        self,
        *,
        code: str,
        percentage: bool,
        value: Decimal,
        channel: Channel,
        name: str,
        ends_at: datetime,
    ) -> tuple[str, datetime]:
        """A personal voucher with ``code``; returns its Saleor id and end.

        Safe to call again with the same code: when an earlier attempt created the voucher but
        its caller died before recording it, Saleor refuses the code as taken, and the voucher
        with that code is looked up and (again) listed in the channel instead of a second one
        being made. A listing that fails deletes the voucher, so a retry starts afresh."""
        try:
            found = self.client.execute(CHANNEL, {"slug": channel.slug}).get("channel")
            if not found or found.get("currencyCode") != channel.currency:
                raise RewardError(f"Saleor has no channel {channel.slug} in {channel.currency}")
            voucher = personal_voucher_input(code, name, percentage=percentage, ends_at=ends_at)
            result = self.client.execute(CREATE, {"input": voucher})["voucherCreate"]
            if _already_exists(result):
                voucher_id, ends_at = self._by_code(code)
            else:
                _refuse_on(result)
                voucher_id = str(result["voucher"]["id"])
            listing = {"addChannels": [{"channelId": found["id"], "discountValue": str(value)}]}
            listed = self.client.execute(LIST_IN_CHANNEL, {"id": voucher_id, "input": listing})
            try:
                _refuse_on(listed["voucherChannelListingUpdate"])
            except RewardError:
                self.client.execute(DELETE, {"id": voucher_id})
                raise
            return voucher_id, ends_at
        except SaleorAPIError as exc:
            raise RewardError(str(exc)) from exc
        finally:
            self.client.close()

    def _by_code(self, code: str) -> tuple[str, datetime]:
        edges = self.client.execute(FIND_BY_CODE, {"code": code})["vouchers"]["edges"]
        for edge in edges:
            node = edge["node"]
            if node.get("code") == code:
                return str(node["id"]), datetime.fromisoformat(node["endDate"])
        raise RewardError(f"Saleor refused the code {code} as taken but has no such voucher")

    def issue_gift_card(self, *, amount: Decimal, channel: Channel, name: str) -> tuple[str, str]:
        """Saleor generates the code (``GiftCardCreateInput.code`` is deprecated), so it is read
        back; a card whose code does not come back is deleted again."""
        gift_card = {
            "balance": {"amount": str(amount), "currency": channel.currency},
            "isActive": True,
            "note": name,
            "addTags": ["loyalty-reward"],
        }
        try:
            created = self.client.execute(GIFT_CARD_CREATE, {"input": gift_card})
            result = created["giftCardCreate"]
            _refuse_on(result)
            card = result.get("giftCard") or {}
            if not card.get("code"):
                if card.get("id"):
                    self.client.execute(GIFT_CARD_DELETE, {"id": card["id"]})
                raise RewardError("Saleor did not return the gift card's code")
            return str(card["id"]), str(card["code"])
        except SaleorAPIError as exc:
            raise RewardError(str(exc)) from exc
        finally:
            self.client.close()


def _refuse_on(result: dict[str, Any]) -> None:
    errors = result.get("errors") or []
    if errors:
        raise RewardError("; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors))


class SaleorORMIssuer:
    """The in-process plugin: Saleor's own models, inside the redemption's transaction, so a
    failure leaves neither the voucher nor the spent points behind."""

    def issue(self, *, code: str, amount: Decimal, channel: Channel, name: str) -> str:
        import graphene
        from saleor.channel.models import Channel as SaleorChannel
        from saleor.discount import DiscountValueType, VoucherType
        from saleor.discount.models import Voucher, VoucherChannelListing, VoucherCode

        found = SaleorChannel.objects.filter(slug=channel.slug).first()
        if found is None or found.currency_code != channel.currency:
            raise RewardError(f"Saleor has no channel {channel.slug} in {channel.currency}")
        voucher = Voucher.objects.create(
            name=name,
            type=VoucherType.ENTIRE_ORDER,
            discount_value_type=DiscountValueType.FIXED,
            single_use=True,
            usage_limit=1,
        )
        VoucherCode.objects.create(voucher=voucher, code=code)
        VoucherChannelListing.objects.create(
            voucher=voucher, channel=found, discount_value=amount, currency=found.currency_code
        )
        return str(graphene.Node.to_global_id("Voucher", voucher.pk))

    def issue_personal(
        self,
        *,
        code: str,
        percentage: bool,
        value: Decimal,
        channel: Channel,
        name: str,
        ends_at: datetime,
    ) -> tuple[str, datetime]:
        """As the API issuer's; here in the caller's transaction, so a voucher exists exactly
        when the step that shows its code was recorded. A code already there is returned."""
        import graphene
        from saleor.channel.models import Channel as SaleorChannel
        from saleor.discount import DiscountValueType, VoucherType
        from saleor.discount.models import Voucher, VoucherChannelListing, VoucherCode

        existing = VoucherCode.objects.filter(code=code).select_related("voucher").first()
        if existing is not None:
            voucher = existing.voucher
            return (
                str(graphene.Node.to_global_id("Voucher", voucher.pk)),
                voucher.end_date or ends_at,
            )
        found = SaleorChannel.objects.filter(slug=channel.slug).first()
        if found is None or found.currency_code != channel.currency:
            raise RewardError(f"Saleor has no channel {channel.slug} in {channel.currency}")
        voucher = Voucher.objects.create(
            name=name,
            type=VoucherType.ENTIRE_ORDER,
            discount_value_type=(
                DiscountValueType.PERCENTAGE if percentage else DiscountValueType.FIXED
            ),
            single_use=True,
            usage_limit=1,
            apply_once_per_customer=True,
            end_date=ends_at,
        )
        VoucherCode.objects.create(voucher=voucher, code=code)
        VoucherChannelListing.objects.create(
            voucher=voucher, channel=found, discount_value=value, currency=found.currency_code
        )
        return str(graphene.Node.to_global_id("Voucher", voucher.pk)), ends_at

    def issue_gift_card(self, *, amount: Decimal, channel: Channel, name: str) -> tuple[str, str]:
        import secrets

        import graphene
        from saleor.channel.models import Channel as SaleorChannel
        from saleor.giftcard.models import GiftCard

        found = SaleorChannel.objects.filter(slug=channel.slug).first()
        if found is None or found.currency_code != channel.currency:
            raise RewardError(f"Saleor has no channel {channel.slug} in {channel.currency}")
        code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(12))
        card = GiftCard.objects.create(
            code=code,
            is_active=True,
            currency=channel.currency,
            initial_balance_amount=amount,
            current_balance_amount=amount,
            metadata={"crm.reward": name},
        )
        return str(graphene.Node.to_global_id("GiftCard", card.pk)), code
