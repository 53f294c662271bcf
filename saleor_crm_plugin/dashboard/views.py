"""Thin views: an HTML shell per page, the built assets, and a clear 503 before a build."""

from __future__ import annotations

import mimetypes
from html import escape

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from .assets import AssetsMissing, asset_path, current_build
from .pages import VIEWS

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CRM: front end not built</title></head>
<body><main><h1>The CRM's dashboard pages are not built</h1>
<p>This installation has no built front end in
<code>saleor_crm_plugin/dashboard/static/crm-dashboard/</code>. Run <code>scripts/setup</code>
(or <code>npm ci &amp;&amp; npm run build</code> in <code>frontend/</code>), or install a released
wheel, which includes it.</p></main></body></html>
"""


def shell(view: str, root: str) -> str:
    """The page for ``view``; ``root`` is the dashboard's URL prefix ending in ``/``, and the
    CRM's GraphQL is its sibling ``graphql/`` (the same layout in the app and the plugin)."""
    build = current_build()
    graphql = root.removesuffix("dashboard/") + "graphql/"
    styles = "".join(
        f'<link rel="stylesheet" href="{escape(root)}{escape(css)}">' for css in build.styles
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>CRM</title>{styles}"
        f'<script type="module" src="{escape(root)}{escape(build.script)}"></script></head>'
        f'<body><div id="root" data-view="{escape(view)}" data-graphql="{escape(graphql)}">'
        "</div></body></html>\n"
    )


def page_response(view: str, root: str) -> HttpResponse:
    if view not in VIEWS:
        raise Http404("No such CRM page.")
    try:
        html = shell(view, root)
    except AssetsMissing:
        return HttpResponse(NOT_BUILT, status=503, content_type="text/html; charset=utf-8")
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def asset_response(name: str) -> FileResponse:
    path = asset_path(name)
    if path is None:
        raise Http404("No such asset.")
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":
        content_type = "text/javascript"
    response = FileResponse(path.open("rb"), content_type=content_type)
    # Hashed names: a new build has new names, so a browser may keep these forever.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _root(request: HttpRequest, view: str) -> str:
    return request.path[: len(request.path) - len(view)] if view else request.path


@require_GET
@xframe_options_exempt  # the dashboard shows these pages in an iframe
def page(request: HttpRequest, view: str = "crm") -> HttpResponse:
    root = _root(request, view if request.path.endswith(view) else "")
    return page_response(view, root)


@require_GET
def asset(request: HttpRequest, name: str) -> FileResponse:
    return asset_response(name)
