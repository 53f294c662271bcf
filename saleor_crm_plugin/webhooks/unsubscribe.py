"""``/unsubscribe/<token>``: the link in every marketing e-mail, working without login.

GET shows a confirmation page and changes nothing (mail scanners and link previews fetch links
too). POST unsubscribes: the button on that page, and RFC 8058's one-click POST a mail client
sends with the body ``List-Unsubscribe=One-Click`` (no CSRF token: the signed URL is the
proof). A bad or altered token gets a 400 page that says so.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..conf import crm_settings
from ..messaging.locales import resolve
from ..messaging.render import render_page, shop_name
from ..privacy import unsubscribe as door
from ..privacy.tokens import BadToken, read_token

_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
}


def _page(state: str, locale: str, shop: str = "", status: int = 200) -> HttpResponse:
    page = render_page("unsubscribe", locale, {"state": state, "shop": shop})
    response = HttpResponse(page, status=status)
    for name, value in _HEADERS.items():
        response[name] = value
    return response


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        claim = read_token(token)
    except BadToken:
        return _page("invalid", resolve(crm_settings.DEFAULT_LANGUAGE), status=400)
    profile = door.profile_for(claim)
    locale = door.page_locale(profile, claim)
    shop = shop_name(profile) if profile is not None else crm_settings.SHOP_NAME
    if request.method != "POST":
        return _page("confirm" if profile is not None else "done", locale, shop)
    if profile is not None:
        door.unsubscribe(profile, claim)
    return _page("done", locale, shop)
