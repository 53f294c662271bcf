"""A store's earning rules: what orders and bonus events earn, how long points stay pending,
when they expire, and what they buy.

Staff change them at run time; each save is a new version (``EarningProgram``) recording who
saved it and when, and earlier versions stay as they were. A store that never saved any uses
the ``CRM_LOYALTY_*`` settings, so an installation behaves as configured until a merchant
takes over. An order earns by the version in force when it was placed, and the ledger records
what it earned on the earn entry: saving new rules never changes past entries, and a refund
takes back shares of the recorded points (``reversals.reverse_orders``), never today's rules.

Everything else (bonuses, expiry, reminders, rewards) follows the rules in force when it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..conf import crm_settings
from ..money.currencies import is_known_currency
from ..tenants.models import Tenant
from .models import EarningProgram

VOUCHER, GIFT_CARD = "voucher", "gift_card"
# Bounds a merchant cannot cross by mistake: a return window of years would keep points pending
# for ever, a thousand points per unit is a typo for a point value.
MAX_POINTS_PER_UNIT = Decimal(1000)
MAX_BONUS = 1_000_000
MAX_RETURN_DAYS = 365
MAX_EXPIRY_DAYS = 3650
MAX_POINT_VALUE = Decimal(1000)

INTEGERS = (
    "signup_bonus",
    "first_order_bonus",
    "birthday_bonus",
    "feedback_bonus",
    "referral_friend_bonus",
    "referral_advocate_bonus",
)
DAYS = {
    "return_days": MAX_RETURN_DAYS,
    "expiry_days": MAX_EXPIRY_DAYS,
    "inactivity_days": MAX_EXPIRY_DAYS,
}


class InvalidEarningRules(ValueError):
    """Rules a merchant must correct; ``problems`` maps each rule to what is wrong."""

    code = "invalid_earning_rules"

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class EarningRules:
    points_per_unit: Decimal  # per whole unit of the base currency
    points_per_currency: tuple[tuple[str, Decimal], ...]  # orders in these earn on their own total
    return_days: int  # an order's points stay pending this long
    signup_bonus: int
    first_order_bonus: int
    birthday_bonus: int
    feedback_bonus: int
    referral_friend_bonus: int
    referral_advocate_bonus: int
    expiry_days: int  # per lot, after it became available; 0: never
    inactivity_days: int  # without an order; 0: never
    point_value: Decimal  # one point, in the base currency, when redeemed
    rewards: tuple[tuple[int, str], ...]  # (points, "voucher" or "gift_card"), ascending

    @property
    def reward_points(self) -> tuple[int, ...]:
        return tuple(points for points, _ in self.rewards)

    def reward_kind(self, points: int) -> str:
        """The catalogue's kind for a package of ``points``; any other amount is a voucher."""
        return dict(self.rewards).get(points, VOUCHER)

    def as_data(self) -> dict[str, Any]:
        return {
            "points_per_unit": str(self.points_per_unit),
            "points_per_currency": {code: str(rate) for code, rate in self.points_per_currency},
            "return_days": self.return_days,
            **{name: getattr(self, name) for name in INTEGERS},
            "expiry_days": self.expiry_days,
            "inactivity_days": self.inactivity_days,
            "point_value": str(self.point_value),
            "rewards": [{"points": points, "kind": kind} for points, kind in self.rewards],
        }

    def changed(self, data: dict[str, Any]) -> EarningRules:
        """These rules with ``data``'s on top; InvalidEarningRules lists every problem."""
        if not isinstance(data, dict):
            raise InvalidEarningRules(
                {"rules": 'Give an object of rules, e.g. {"return_days": 30}.'}
            )
        problems: dict[str, str] = {}
        values: dict[str, Any] = {}
        known = set(self.as_data())
        for name, raw in data.items():
            if name not in known:
                problems[name] = (
                    f"There is no such earning rule (known: {', '.join(sorted(known))})."
                )
                continue
            try:
                values[name] = _PARSERS[name](raw)
            except ValueError as exc:
                problems[name] = str(exc)
        if problems:
            raise InvalidEarningRules(problems)
        return replace(self, **values)

    @staticmethod
    def from_data(data: dict[str, Any]) -> EarningRules:
        """Rules as saved in a version (all of them, checked when saved)."""
        return defaults().changed(data)


def _whole(raw: Any, most: int, what: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str | float | Decimal):
        raise ValueError(f"Give a whole number of {what}, e.g. 0 or 50.")
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise ValueError(f"Give a whole number of {what}, e.g. 0 or 50.") from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"Give a whole number of {what}, e.g. 0 or 50.")
    if number < 0:
        raise ValueError(f"The number of {what} cannot be negative.")
    if number > most:
        raise ValueError(f"At most {most} {what}.")
    return int(number)


def _number(raw: Any, what: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | str | float | Decimal):
        raise ValueError(f"Give {what} as a number, e.g. 1 or 0.5.")
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise ValueError(f"Give {what} as a number, e.g. 1 or 0.5.") from exc
    if not number.is_finite():
        raise ValueError(f"Give {what} as a number, e.g. 1 or 0.5.")
    return number.normalize() if number == number.to_integral_value() else number


def _per_unit(raw: Any) -> Decimal:
    number = _number(raw, "the points per unit")
    if number < 0:
        raise ValueError("Points per unit cannot be negative (0 earns nothing on orders).")
    if number > MAX_POINTS_PER_UNIT:
        raise ValueError(f"At most {MAX_POINTS_PER_UNIT} points per unit of the currency.")
    return number


def _per_currency(raw: Any) -> tuple[tuple[str, Decimal], ...]:
    if raw in (None, ""):
        return ()
    if not isinstance(raw, dict):
        raise ValueError('Give points per unit by currency, e.g. {"JPY": "0.01", "USD": "1"}.')
    found = []
    for code, rate in sorted(raw.items()):
        upper = str(code).strip().upper()
        if not is_known_currency(upper):
            raise ValueError(f"'{code}' is not a currency code such as EUR or JPY.")
        number = _number(rate, f"the points per {upper}")
        if number <= 0 or number > MAX_POINTS_PER_UNIT:
            raise ValueError(
                f"{upper}: give points above 0 and at most {MAX_POINTS_PER_UNIT} per unit "
                "(remove the currency to earn on the base currency instead)."
            )
        found.append((upper, number))
    if len({code for code, _ in found}) != len(found):
        raise ValueError("Each currency once, please.")
    return tuple(found)


def _point_value(raw: Any) -> Decimal:
    number = _number(raw, "the value of a point")
    if not 0 < number <= MAX_POINT_VALUE:
        raise ValueError(
            f"A point is worth more than 0 and at most {MAX_POINT_VALUE} of the base currency."
        )
    return number


def _rewards(raw: Any) -> tuple[tuple[int, str], ...]:
    """A list like [500, {"points": 2500, "kind": "gift_card"}], or the settings' form
    "500,2500:gift_card"."""
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple):
        raise ValueError(
            'Give the reward packages, e.g. [500, {"points": 2500, "kind": "gift_card"}].'
        )
    found: dict[int, str] = {}
    for item in items:
        if isinstance(item, dict):
            points, kind = item.get("points"), str(item.get("kind") or VOUCHER).strip()
        elif isinstance(item, str):
            text, _, kind = item.strip().partition(":")
            points, kind = text.strip(), kind.strip() or VOUCHER
            if not text.strip():
                continue
        else:
            points, kind = item, VOUCHER
        number = _whole(points, MAX_BONUS, "points of a reward")
        if number == 0:
            raise ValueError("A reward costs at least 1 point.")
        if kind not in (VOUCHER, GIFT_CARD):
            raise ValueError(
                f"A reward of {number} points is a voucher or a gift_card, not {kind!r}."
            )
        if number in found:
            raise ValueError(f"There are two rewards of {number} points.")
        found[number] = kind
    return tuple(sorted(found.items()))


_PARSERS: dict[str, Any] = {
    "points_per_unit": _per_unit,
    "points_per_currency": _per_currency,
    "point_value": _point_value,
    "rewards": _rewards,
    **{name: (lambda raw: _whole(raw, MAX_BONUS, "points")) for name in INTEGERS},
    **{name: (lambda raw, most=most: _whole(raw, most, "days")) for name, most in DAYS.items()},
}


def defaults() -> EarningRules:
    """The ``CRM_LOYALTY_*`` and ``CRM_REFERRAL_*`` settings as rules (checked at start-up)."""
    s = crm_settings
    return EarningRules(
        points_per_unit=s.LOYALTY_POINTS_PER_UNIT,
        points_per_currency=tuple(sorted(s.LOYALTY_POINTS_PER_CURRENCY.items())),
        return_days=s.LOYALTY_RETURN_DAYS,
        signup_bonus=s.LOYALTY_SIGNUP_BONUS,
        first_order_bonus=s.LOYALTY_FIRST_ORDER_BONUS,
        birthday_bonus=s.LOYALTY_BIRTHDAY_BONUS,
        feedback_bonus=s.LOYALTY_FEEDBACK_BONUS,
        referral_friend_bonus=s.REFERRAL_FRIEND_BONUS,
        referral_advocate_bonus=s.REFERRAL_ADVOCATE_BONUS,
        expiry_days=s.LOYALTY_EXPIRY_DAYS,
        inactivity_days=s.LOYALTY_INACTIVITY_DAYS,
        point_value=s.LOYALTY_POINT_VALUE,
        rewards=tuple(sorted(s.LOYALTY_REWARD_KINDS.items())),
    )


def current_program(tenant: Tenant) -> EarningProgram | None:
    return EarningProgram.objects.filter(tenant=tenant).order_by("-version").first()


def rules_for(tenant: Tenant) -> EarningRules:
    """The rules in force now: the latest saved version, else the settings."""
    program = current_program(tenant)
    return EarningRules.from_data(program.rules) if program else defaults()


# Rules in force before a store's first version: the settings, since the beginning of time.
BEGINNING = datetime(1, 1, 1, tzinfo=UTC)


def history(tenant: Tenant) -> list[tuple[datetime, int, EarningRules]]:
    """(in force from, version, rules) of every version, oldest first; version 0 is the settings,
    in force until the first save. For earning each order by the rules of its moment."""
    versions = EarningProgram.objects.filter(tenant=tenant).order_by("version")
    return [(BEGINNING, 0, defaults())] + [
        (v.created_at, v.version, EarningRules.from_data(v.rules)) for v in versions
    ]


def save_rules(
    tenant: Tenant, changes: dict[str, Any], *, by: str, now: datetime | None = None
) -> EarningProgram:
    """A new version: the rules in force with ``changes`` on top, in force from ``now``.

    Refused as a whole (InvalidEarningRules, nothing saved) when one rule is wrong. Earlier
    versions and every points entry already written stay as they are. Two staff saving at the
    same moment queue on the tenant row, so versions never collide.
    """
    with transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        rules = rules_for(tenant).changed(changes)
        latest = current_program(tenant)
        return EarningProgram.objects.create(
            tenant=tenant,
            version=(latest.version + 1) if latest else 1,
            rules=rules.as_data(),
            created_at=now or timezone.now(),
            created_by=by,
        )
