"""Turn a queued message into subject, text and HTML in its locale.

Templates are Django templates using ``{% translate %}`` with the context "crm email" (so a
host's own catalog, e.g. Saleor's, can never replace our words), rendered by a private engine:
we do not depend on the host's TEMPLATES setting. Money, dates and plural forms are formatted
here, with Babel, before the template sees them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.template import Context, Engine
from django.utils import translation

from ..conf import crm_settings
from ..profiles.models import Profile
from . import formatting, markup
from .locales import is_rtl

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
KINDS = (
    "welcome",
    "abandoned_checkout",
    "browse_reminder",
    "tier_changed",
    "points_expiring",
    "consent_confirmation",
    "post_purchase",
    "win_back",
    "campaign",
)

# Kinds with a short text for SMS (``<kind>_sms.txt``, msgctxt "crm sms").
SMS_KINDS = ("abandoned_checkout", "points_expiring")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def engine() -> Engine:
    return Engine(dirs=[str(TEMPLATES)], libraries={"i18n": "django.templatetags.i18n"})


def _lines(context: dict[str, Any], locale: str) -> list[dict[str, Any]]:
    currency = str(context.get("currency", ""))
    return [
        {
            "name": str(line.get("name", "")),
            "quantity": int(line.get("quantity", 1)),
            "price": formatting.money(int(line["total_minor"]), currency, locale),
        }
        for line in context.get("lines", [])
    ]


def template_context(
    kind: str,
    locale: str,
    data: dict[str, Any],
    *,
    name: str,
    shop: str,
    time_zone: str,
    unsubscribe_url: str,
) -> dict[str, Any]:
    """What the templates see: every number and date already formatted for the locale."""
    lang = locale.split("-")[0] if locale != "zh-hans" else "zh-Hans"
    ctx: dict[str, Any] = {
        "lang": lang,
        "dir": "rtl" if is_rtl(locale) else "ltr",
        "rtl": is_rtl(locale),
        "shop": shop,
        "shop_url": str(data.get("shop_url", "")),
        "name": name,
        "unsubscribe_url": unsubscribe_url,
    }
    if kind == "campaign":  # written by staff (campaigns/), in this locale already
        ctx["campaign_subject"] = str(data["subject"])
        ctx["body_html"] = markup.to_html(str(data["body"]))
        ctx["body_text"] = markup.to_text(str(data["body"]))
    if kind == "consent_confirmation":
        ctx["confirm_url"] = str(data["confirm_url"])
    if kind == "tier_changed":
        ctx["tier"] = str(data["tier"])
    if kind == "points_expiring":
        ctx["points"] = formatting.number(int(data["points"]), locale)
        ctx["date"] = formatting.day(date.fromisoformat(str(data["expires_on"])), locale)
    if kind in ("browse_reminder", "abandoned_checkout"):
        ctx["recommended"] = [str(name) for name in data.get("recommended", [])]
    if kind == "browse_reminder":
        ctx["products"] = [str(name) for name in data.get("products", [])]
    if kind == "post_purchase":
        url = str(data["feedback_url"])
        ctx.update(
            number=f"#{data['order_number']}" if data.get("order_number") else "",
            lines=_lines(data, locale),
            total=formatting.money(int(data["total_minor"]), str(data["currency"]), locale),
            ratings=[
                {"value": n, "url": f"{url}?rating={n}", "stars": "★" * n + "☆" * (5 - n)}
                for n in range(1, 6)
            ],
        )
    if kind == "abandoned_checkout":
        lines = _lines(data, locale)
        ctx.update(
            lines=lines,
            item_count=sum(line["quantity"] for line in lines),
            total=formatting.money(int(data["total_minor"]), str(data["currency"]), locale),
            checkout_url=str(data.get("checkout_url", "")),
        )
    if kind in ("abandoned_checkout", "win_back"):
        ctx.update(_discount(data, locale, time_zone))
    return ctx


def _discount(data: dict[str, Any], locale: str, time_zone: str) -> dict[str, str]:
    """A personal discount's code, value (a percentage or an amount in the channel's
    currency) and end on the customer's clock; empty strings when there is none."""
    value = ""
    if data.get("discount_percent"):
        value = formatting.percent(Decimal(str(data["discount_percent"])), locale)
    elif data.get("discount_amount_minor"):
        value = formatting.money(
            int(data["discount_amount_minor"]), str(data["discount_currency"]), locale
        )
    expires = data.get("discount_expires_at")
    return {
        "discount_code": str(data.get("discount_code", "")),
        "discount_value": value,
        "discount_expires": (
            formatting.moment(datetime.fromisoformat(expires), time_zone, locale) if expires else ""
        ),
    }


def render(kind: str, locale: str, ctx: dict[str, Any]) -> Rendered:
    if kind not in KINDS:
        raise ValueError(f"no template for message kind {kind!r}")
    base = "saleor_crm_plugin/messages/"
    with translation.override(locale):
        subject_ctx = Context(ctx, autoescape=False)
        subject = " ".join(
            engine().get_template(f"{base}{kind}_subject.txt").render(subject_ctx).split()
        )
        text = engine().get_template(f"{base}{kind}.txt").render(Context(ctx, autoescape=False))
        html = (
            engine().get_template(f"{base}{kind}.html").render(Context({**ctx, "subject": subject}))
        )
    return Rendered(subject=subject, text=text.strip() + "\n", html=html)


def render_sms(kind: str, locale: str, ctx: dict[str, Any], *, stop_hint: bool) -> str:
    """A short text on one line; marketing texts end with how to stop them (a carrier rule)."""
    if kind not in SMS_KINDS:
        raise ValueError(f"no SMS text for message kind {kind!r}")
    with translation.override(locale):
        text = (
            engine()
            .get_template(f"saleor_crm_plugin/messages/{kind}_sms.txt")
            .render(Context({**ctx, "stop_hint": stop_hint}, autoescape=False))
        )
    return " ".join(text.split())


def shop_name(profile: Profile) -> str:
    return crm_settings.SHOP_NAME or profile.tenant.saleor_domain


def render_for(
    kind: str,
    locale: str,
    data: dict[str, Any],
    profile: Profile,
    *,
    unsubscribe_url: str,
    time_zone: str,
) -> Rendered:
    """The message to this customer: addressed by first name, in their time zone."""
    ctx = template_context(
        kind,
        locale,
        data,
        name=profile.first_name,
        shop=shop_name(profile),
        time_zone=time_zone,
        unsubscribe_url=unsubscribe_url,
    )
    return render(kind, locale, ctx)


def render_page(name: str, locale: str, ctx: dict[str, Any]) -> str:
    """A public page (the unsubscribe door) in the customer's language and direction."""
    lang = locale.split("-")[0] if locale != "zh-hans" else "zh-Hans"
    full = {
        "lang": lang,
        "dir": "rtl" if is_rtl(locale) else "ltr",
        **ctx,
    }
    with translation.override(locale):
        return engine().get_template(f"saleor_crm_plugin/pages/{name}.html").render(Context(full))
