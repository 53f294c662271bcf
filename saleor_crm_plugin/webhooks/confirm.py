"""``/consent/confirm/<token>``: the double opt-in link, working without login.

As with unsubscribing, GET shows a page and changes nothing (link scanners open links); the
button POSTs and confirms. A bad, altered or expired link, or one for a consent withdrawn
since, gets a 400 page that says so.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..conf import crm_settings
from ..messaging.locales import resolve
from ..messaging.render import render_page, shop_name
from ..privacy import confirmation
from ..privacy.tokens import BadToken, read_confirm_token

_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
}


def _page(state: str, locale: str, shop: str = "", status: int = 200) -> HttpResponse:
    response = HttpResponse(
        render_page("confirm", locale, {"state": state, "shop": shop}), status=status
    )
    for name, value in _HEADERS.items():
        response[name] = value
    return response


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    invalid_locale = resolve(crm_settings.DEFAULT_LANGUAGE)
    try:
        claim = read_confirm_token(token, crm_settings.CONFIRMATION_DAYS * 24 * 3600)
    except BadToken:
        return _page("invalid", invalid_locale, status=400)
    profile = confirmation.profile_for(claim)
    if profile is None:
        return _page("invalid", invalid_locale, status=400)
    locale = resolve(profile.language, claim.channel)
    shop = shop_name(profile)
    if request.method != "POST":
        return _page("confirm", locale, shop)
    if not confirmation.confirm(profile, claim):
        return _page("invalid", locale, shop, status=400)
    return _page("done", locale, shop)
