"""``/feedback/<token>?rating=N``: the rating links of the post-purchase e-mail, without login.

GET shows the rating page with the clicked rating already chosen and a comment box, and
records nothing: mail scanners and link previews open every link in an e-mail, and would
otherwise vote (five times, the last one winning). The page's one button POSTs and saves, so
for the customer it is one click on the star, one on the button. A bad, altered or expired link
gets a 400 page that says so and saves nothing; a bad rating or too long a comment shows the
form again with the reason, keeping what was typed.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..conf import crm_settings
from ..feedback.door import page_for
from ..feedback.errors import CommentTooLong, FeedbackError, InvalidRating
from ..feedback.services import COMMENT_MAX, clean_rating, give_feedback
from ..feedback.tokens import BadFeedbackToken, read_feedback_token
from ..messaging.locales import resolve
from ..messaging.render import render_page
from ..tenants.models import Tenant

_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
}


def _page(locale: str, ctx: dict[str, object], status: int = 200) -> HttpResponse:
    context = {"state": "form", "ratings": [1, 2, 3, 4, 5], "limit": COMMENT_MAX, **ctx}
    response = HttpResponse(render_page("feedback", locale, context), status=status)
    for name, value in _HEADERS.items():
        response[name] = value
    return response


def _chosen(value: str | None) -> int | None:
    try:
        return clean_rating(value)
    except InvalidRating:
        return None


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def feedback(request: HttpRequest, token: str) -> HttpResponse:
    invalid: dict[str, object] = {"state": "invalid"}
    try:
        claim = read_feedback_token(token, crm_settings.FEEDBACK_LINK_DAYS * 24 * 3600)
    except BadFeedbackToken:
        return _page(resolve(crm_settings.DEFAULT_LANGUAGE), invalid, 400)
    page = page_for(claim)
    tenant = Tenant.objects.filter(pk=claim.tenant_id, is_active=True).first()
    if page is None or tenant is None:
        return _page(resolve(crm_settings.DEFAULT_LANGUAGE), invalid, 400)
    facts: dict[str, object] = {"shop": page.shop, "number": page.number}
    if request.method != "POST":
        rating = _chosen(request.GET.get("rating")) or page.rating
        return _page(page.locale, {**facts, "rating": rating, "comment": page.comment})
    comment = request.POST.get("comment", "")
    try:
        give_feedback(tenant, claim.order_id, request.POST.get("rating"), comment)
    except InvalidRating:
        return _page(page.locale, {**facts, "error": "rating", "comment": comment}, 400)
    except CommentTooLong:
        rating = _chosen(request.POST.get("rating"))
        return _page(
            page.locale, {**facts, "error": "comment", "rating": rating, "comment": comment}, 400
        )
    except FeedbackError:
        return _page(page.locale, {**facts, **invalid}, 400)
    return _page(page.locale, {**facts, "state": "done"})
