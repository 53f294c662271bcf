"""Segment rules: JSON a merchant writes, checked with readable errors, compiled to SQL.

A rule set is a group, ``{"all": [...]}`` or ``{"any": [...]}``, whose items are conditions or
groups (up to ``MAX_DEPTH`` deep). A condition is ``{"field": ..., "op": ..., "value": ...}``;
period fields also take ``"days"`` and tracked behaviour takes ``"kind"`` (and an optional
``"subject"``), e.g. "spent over 500 EUR in the last 90 days and country in DE, AT, CH"::

    {"all": [{"field": "spent_in_period", "days": 90, "op": "gt", "value": 500},
             {"field": "country", "op": "in", "value": ["DE", "AT", "CH"]}]}

Only names from ``FIELDS`` and ``OPS`` choose SQL fragments (constants of this module); every
value the merchant gives goes to the database as a parameter, never into the SQL text.
The compiled condition reads ``p`` (crm_profile) and ``s`` (crm_customer_scores, left-joined),
the compiled ``joins`` and the parameters ``%(tenant)s`` and ``%(now)s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ..money.currencies import to_minor
from ..profiles.events import NOT_PURCHASES
from ..tracking.services import KINDS
from .groups import GROUPS, QUADRANTS, RISK_FLAGS, STAGES

MAX_DEPTH = 4
MAX_CONDITIONS = 50
MAX_DAYS = 3660


class RuleError(ValueError):
    """What is wrong with a rule set, in words a merchant understands; ``path`` says where
    (e.g. ``all[1].value``)."""

    code = "invalid_segment_rules"

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


@dataclass(frozen=True)
class Field:
    sql: str  # an expression over p/s, or a template with {days}/{kind}/{subject}/{status}
    kind: str  # text, choice, number, money, rate, score, date, list
    choices: tuple[str, ...] = ()
    needs_days: bool = False
    needs_kind: bool = False
    help: str = ""
    period: bool = False  # reads {period}n / {period}spent: figures of the last {days} days


_PURCHASES = "o.status <> ALL(%(not_purchases)s)"
_SINCE = "o.created_at >= %(now)s - make_interval(days => {days})"
# Period figures come from one grouped pass over the orders of the longest period, left-joined
# to the profiles, with each period's figures as filtered aggregates (``d0_n``, ``d0_spent``,
# ...): a subquery per profile probed the orders once per customer (613 ms for a preview at
# 200,000 customers); one pass per period read the shorter periods' orders again and made
# each period a join of every profile; in one pass, conditions on several periods all read
# one row per customer, so an ``any`` of them that 0 fails keeps only the customers of the pass
# (see ``_period_compare``) and joins 12,195 profiles instead of 200,000 twice (BENCHMARKS.md).
_PERIOD_FIGURES = (
    "count(*){only} AS {col}n, "
    "sum(o.total_gross_base_minor - o.refunded_base_minor){only} AS {col}spent"
)
_PERIOD_JOIN = (
    "LEFT JOIN (SELECT o.profile_id, {figures} FROM crm_order o "
    f"WHERE o.tenant_id = %(tenant)s AND o.profile_id IS NOT NULL AND {_PURCHASES} "
    "AND {since} GROUP BY o.profile_id) periods ON periods.profile_id = p.id"
)

FIELDS: dict[str, Field] = {
    "country": Field("p.country", "text", help="ISO country code, e.g. DE"),
    "language": Field("p.language", "text", help="language code, e.g. de"),
    "time_zone": Field("p.time_zone", "text"),
    "email": Field("lower(p.email)", "text"),
    "is_guest": Field("(p.user_id IS NULL)", "bool"),
    "joined_at": Field("p.joined_at", "date"),
    "orders_count": Field("p.orders_count", "number"),
    "cancelled_orders_count": Field("p.cancelled_orders_count", "number"),
    "spent": Field("p.spent_gross_minor - p.refunded_minor", "money"),
    "average_order": Field("p.average_order_minor", "money"),
    "refund_rate": Field("p.refund_rate", "rate"),
    "first_order_at": Field("p.first_order_at", "date"),
    "last_order_at": Field("p.last_order_at", "date"),
    "channels": Field("p.channels", "list"),
    "categories": Field("p.categories", "list"),
    "products": Field("p.products", "list"),
    "payment_methods": Field("p.payment_methods", "list"),
    # Staff tags (stored lower-case, so rule values are lower-cased too).
    "tags": Field("ARRAY(SELECT t.tag FROM crm_tag t WHERE t.profile_id = p.id)", "list"),
    "rfm_group": Field("s.rfm_group", "choice", GROUPS),
    "stage": Field("s.stage", "choice", STAGES),
    "quadrant": Field("s.quadrant", "choice", QUADRANTS),
    "recency_score": Field("s.recency", "score"),
    "frequency_score": Field("s.frequency", "score"),
    "monetary_score": Field("s.monetary", "score"),
    "risk_flags": Field("s.risk_flags", "list", RISK_FLAGS),
    # From the last recompute's predictions (docs/predictions.md); none before a purchase.
    "churn_risk": Field(
        "(SELECT c.churn_risk FROM crm_customer_prediction c WHERE c.profile_id = p.id)", "rate"
    ),
    "predicted_value_12m": Field(
        "(SELECT c.value_12m_minor FROM crm_customer_prediction c WHERE c.profile_id = p.id)",
        "money",
    ),
    # NULL for a customer without a purchase in the period (see ``_period_compare``).
    "orders_in_period": Field("{period}n", "number", needs_days=True, period=True),
    "spent_in_period": Field("{period}spent", "money", needs_days=True, period=True),
    "tracked_events": Field(
        "(SELECT count(*) FROM crm_tracked_event e WHERE e.profile_id = p.id "
        "AND e.kind = {kind} AND ({subject} = '' OR e.subject_id = {subject}) "
        "AND e.occurred_at >= %(now)s - make_interval(days => {days}))",
        "number",
        needs_days=True,
        needs_kind=True,
    ),
}

_COMPARE = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
OPS: dict[str, tuple[str, ...]] = {
    "text": ("eq", "ne", "in", "not_in"),
    "choice": ("eq", "ne", "in", "not_in"),
    "bool": ("eq",),
    "number": tuple(_COMPARE),
    "money": tuple(_COMPARE),
    "rate": tuple(_COMPARE),
    "score": (*_COMPARE, "in", "not_in"),
    "date": ("before", "after", "within_last_days", "more_than_days_ago"),
    "list": ("contains_any", "contains_all", "contains_none"),
}


@dataclass
class Compiled:
    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    joins: list[str] = field(default_factory=list)  # after crm_profile p, before WHERE
    periods: dict[int, str] = field(default_factory=dict)  # days -> its columns' prefix

    def add(self, value: Any) -> str:
        name = f"v{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"

    def period(self, days: int) -> str:
        """The prefix of the columns of the last ``days`` days' figures (``periods.d0_``)."""
        if days not in self.periods:
            self.periods[days] = f"d{len(self.periods)}_"
        return f"periods.{self.periods[days]}"

    def join_periods(self) -> None:
        """The one grouped pass giving every period's figures, over the longest period."""
        if not self.periods:
            return
        longest = max(self.periods)
        figures = []
        for days, col in self.periods.items():
            only = ""  # the longest period's figures are every row of the pass
            if days != longest:
                only = f" FILTER (WHERE {_SINCE.format(days=self.add(days))})"
            figures.append(_PERIOD_FIGURES.format(col=col, only=only))
        since = _SINCE.format(days=self.add(longest))
        self.joins.append(_PERIOD_JOIN.format(figures=", ".join(figures), since=since))


def compile_rules(rules: Any, base_currency: str) -> Compiled:
    """Check ``rules`` and turn them into a SQL condition with its parameters.

    Raises ``RuleError`` naming the first problem; nothing is stored or run before that.
    """
    out = Compiled(sql="")
    counter = [0]
    out.sql = _group(rules, "", 1, out, base_currency, counter)
    out.join_periods()
    out.params["not_purchases"] = list(NOT_PURCHASES)
    return out


def _group(
    node: Any, path: str, depth: int, out: Compiled, currency: str, counter: list[int]
) -> str:
    if not isinstance(node, dict) or len(node) != 1 or next(iter(node)) not in ("all", "any"):
        raise RuleError('Give a group: {"all": [conditions]} or {"any": [conditions]}.', path)
    if depth > MAX_DEPTH:
        raise RuleError(f"Groups may be nested at most {MAX_DEPTH} deep.", path)
    joiner, items = next(iter(node.items()))
    here = f"{path}.{joiner}" if path else joiner
    if not isinstance(items, list) or not items:
        raise RuleError("A group needs a list of at least one condition.", here)
    parts = []
    for i, item in enumerate(items):
        where = f"{here}[{i}]"
        if isinstance(item, dict) and ("all" in item or "any" in item) and "field" not in item:
            parts.append(_group(item, where, depth + 1, out, currency, counter))
        else:
            counter[0] += 1
            if counter[0] > MAX_CONDITIONS:
                raise RuleError(f"At most {MAX_CONDITIONS} conditions in one segment.", where)
            parts.append(_condition(item, where, out, currency))
    glue = " AND " if joiner == "all" else " OR "
    return "(" + glue.join(parts) + ")"


def _condition(node: Any, path: str, out: Compiled, currency: str) -> str:
    if not isinstance(node, dict) or "field" not in node:
        raise RuleError('Give a condition like {"field": "country", "op": "in", ...}.', path)
    name = node["field"]
    spec = FIELDS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise RuleError(f"Unknown field {name!r}; use one of: {', '.join(sorted(FIELDS))}.", path)
    allowed = {"field", "op", "value"} | ({"days"} if spec.needs_days else set())
    allowed |= {"kind", "subject"} if spec.needs_kind else set()
    extra = sorted(set(node) - allowed)
    if extra:
        raise RuleError(f"'{name}' does not take {', '.join(extra)}.", path)
    op = node.get("op")
    if op not in OPS[spec.kind]:
        raise RuleError(
            f"'{name}' takes the operators {', '.join(OPS[spec.kind])}; got {op!r}.", path
        )
    expr = spec.sql
    if spec.needs_days or spec.needs_kind:
        expr = expr.format(**_context(node, spec, path, out))
    if "value" not in node:
        raise RuleError(f"'{name}' needs a value.", path)
    return _predicate(expr, spec, op, node["value"], f"{path}.value", out, currency)


def _context(node: dict[str, Any], spec: Field, path: str, out: Compiled) -> dict[str, str]:
    days = node.get("days")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise RuleError(f"Give the period as whole days from 1 to {MAX_DAYS}.", f"{path}.days")
    if spec.period:
        return {"period": out.period(days)}
    found = {"days": out.add(days)}
    if spec.needs_kind:
        kind = node.get("kind")
        if kind not in KINDS:
            raise RuleError(f"Give the kind of event: one of {', '.join(KINDS)}.", f"{path}.kind")
        subject = node.get("subject", "")
        if not isinstance(subject, str) or len(subject) > 128:
            raise RuleError("The subject is a product, category or search id.", f"{path}.subject")
        found |= {"kind": out.add(kind), "subject": out.add(subject)}
    return found


def _predicate(
    expr: str, spec: Field, op: str, value: Any, path: str, out: Compiled, currency: str
) -> str:
    kind = spec.kind
    if kind in ("text", "choice") or (kind == "score" and op in ("in", "not_in")):
        values = value if op in ("in", "not_in") else [value]
        if not isinstance(values, list) or not values:
            raise RuleError('Give a list of values, e.g. ["DE", "AT"].', path)
        values = [_scalar(v, spec, path) for v in values]
        if op in ("in", "not_in"):
            sql = f"{expr} = ANY({out.add(values)})"
            return sql if op == "in" else f"NOT COALESCE({sql}, false)"
        return f"COALESCE({expr} {_COMPARE[op]} {out.add(values[0])}, false)"
    if kind == "bool":
        if not isinstance(value, bool):
            raise RuleError("Give true or false.", path)
        return f"{expr} = {out.add(value)}"
    if kind in ("number", "money", "rate", "score"):
        number = _number(value, kind, path, currency)
        param = out.add(number)
        if spec.period:
            return _period_compare(expr, op, number, param)
        return f"COALESCE({expr} {_COMPARE[op]} {param}, false)"
    if kind == "date":
        return _date(expr, op, value, path, out)
    return _list(expr, spec, op, value, path, out)


def _period_compare(expr: str, op: str, number: Any, param: str) -> str:
    """A period figure against a number. A customer without a purchase in the period has no
    row in the period's pass (NULL): 0 orders, 0 spent. When 0 fails the comparison (``gt
    500``), the bare comparison is NULL for them, which a WHERE of ANDs and ORs treats as false
    (nothing in a rule set negates a group); unlike ``COALESCE`` it tells the planner that only
    customers with a row can match, so in an ``all`` it filters the grouped pass (``HAVING``)
    and joins the few customers left instead of every profile (0.78 -> 0.25 s at 200,000)."""
    holds_for_zero = {
        "eq": 0 == number, "ne": 0 != number, "gt": 0 > number,
        "gte": 0 >= number, "lt": 0 < number, "lte": 0 <= number,
    }[op]  # fmt: skip
    if holds_for_zero:
        return f"COALESCE({expr}, 0) {_COMPARE[op]} {param}"
    return f"{expr} {_COMPARE[op]} {param}"


def _scalar(value: Any, spec: Field, path: str) -> Any:
    if spec.kind == "score":
        return _score(value, path)
    if not isinstance(value, str) or not value or len(value) > 320:
        raise RuleError('Give text values, e.g. "DE".', path)
    if spec.choices and value not in spec.choices:
        raise RuleError(f"{value!r} is not one of: {', '.join(spec.choices)}.", path)
    if spec.sql == "lower(p.email)" or spec is FIELDS["tags"]:
        return " ".join(value.split()).lower()
    return value.upper() if spec.sql == "p.country" else value


def _score(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise RuleError("Scores are whole numbers from 1 to 5.", path)
    return value


def _number(value: Any, kind: str, path: str, currency: str) -> Any:
    if kind == "score":
        return _score(value, path)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RuleError("Give a number.", path)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise RuleError(f"{value!r} is not a number.", path) from None
    if not number.is_finite():
        raise RuleError(f"{value!r} is not a number.", path)
    if kind == "money":
        try:
            return to_minor(number, currency)
        except (ValueError, ArithmeticError) as exc:
            raise RuleError(f"{value!r} is not an amount in {currency}: {exc}", path) from None
    if kind == "rate" and not 0 <= number <= 1:
        raise RuleError("Give a rate between 0 and 1, e.g. 0.25 for 25%.", path)
    if kind == "number" and number != number.to_integral_value():
        raise RuleError("Give a whole number.", path)
    return number


def _date(expr: str, op: str, value: Any, path: str, out: Compiled) -> str:
    if op in ("before", "after"):
        try:
            day = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            day = None
        if day is None:
            raise RuleError("Give a date like 2026-01-31.", path)
        sign = "<" if op == "before" else ">="
        return f"COALESCE({expr} {sign} {out.add(day)}::date, false)"
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise RuleError(f"Give whole days from 0 to {MAX_DAYS}.", path)
    sign = ">=" if op == "within_last_days" else "<"
    return f"COALESCE({expr} {sign} %(now)s - make_interval(days => {out.add(value)}), false)"


def _list(expr: str, spec: Field, op: str, value: Any, path: str, out: Compiled) -> str:
    if not isinstance(value, list) or not value:
        raise RuleError('Give a list of values, e.g. ["strollers"].', path)
    values = [_scalar(v, spec, path) for v in value]
    param = f"{out.add(values)}::varchar[]"
    if op == "contains_any":
        return f"COALESCE({expr} && {param}, false)"
    if op == "contains_all":
        return f"COALESCE({expr} @> {param}, false)"
    return f"NOT COALESCE({expr} && {param}, false)"
