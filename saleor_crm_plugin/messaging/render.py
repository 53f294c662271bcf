"""Turn a queued message into subject, text and HTML in its locale.

Templates are Django templates using ``{% translate %}`` with the context "crm email" (so a
host's own catalog, e.g. Saleor's, can never replace our words), rendered by a private engine:
we do not depend on the host's TEMPLATES setting. Money, dates and plural forms are formatted
here, with Babel, before the template sees them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from django.template import Context, Engine
from django.utils import translation

from ..conf import crm_settings
from ..profiles.models import Profile
from . import formatting
from .locales import is_rtl

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
KINDS = (
    "welcome",
    "abandoned_checkout",
    "browse_reminder",
    "tier_changed",
    "points_expiring",
    "consent_confirmation",
)


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
    if kind == "abandoned_checkout":
        lines = _lines(data, locale)
        ctx.update(
            lines=lines,
            item_count=sum(line["quantity"] for line in lines),
            total=formatting.money(int(data["total_minor"]), str(data["currency"]), locale),
            checkout_url=str(data.get("checkout_url", "")),
            discount_code=str(data.get("discount_code", "")),
            discount_expires=(
                formatting.moment(
                    datetime.fromisoformat(data["discount_expires_at"]), time_zone, locale
                )
                if data.get("discount_expires_at")
                else ""
            ),
        )
    return ctx


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
