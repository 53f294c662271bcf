"""The dashboard door without a browser: the manifest's extensions as Saleor checks them, the
HTML shells in both doors, and a clear 503 when the front end was never built."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client

from saleor_crm_plugin.dashboard import assets
from saleor_crm_plugin.dashboard.pages import PAGES
from saleor_crm_plugin.webhooks.manifest import PERMISSIONS, build_manifest

BASE = "https://crm.example.com/saleor"

# Saleor 3.22+'s AppExtensionMount values this app may use, and its targets (3.24's schema keeps
# both as strings; these are the values Saleor's manifest validation accepts).
SALEOR_MOUNTS = {
    "NAVIGATION_CUSTOMERS",
    "CUSTOMER_DETAILS_MORE_ACTIONS",
    "CUSTOMER_DETAILS_WIDGETS",
    "ORDER_DETAILS_WIDGETS",
    "ORDER_DETAILS_MORE_ACTIONS",
    "CUSTOMER_OVERVIEW_MORE_ACTIONS",
}
SALEOR_TARGETS = {"POPUP", "APP_PAGE", "NEW_TAB", "WIDGET"}
STAFF_PERMISSIONS = set(PERMISSIONS)


def test_manifest_declares_the_four_kinds_of_extension():
    manifest = build_manifest(BASE + "/")
    by_mount: dict[str, list[dict]] = {}
    for extension in manifest["extensions"]:
        by_mount.setdefault(extension["mount"], []).append(extension)
    assert [e["target"] for e in by_mount["NAVIGATION_CUSTOMERS"]] == ["APP_PAGE"]
    assert [e["target"] for e in by_mount["CUSTOMER_DETAILS_WIDGETS"]] == ["WIDGET"]
    assert [e["target"] for e in by_mount["ORDER_DETAILS_WIDGETS"]] == ["WIDGET"]
    actions = {e["label"] for e in by_mount["CUSTOMER_DETAILS_MORE_ACTIONS"]}
    assert actions == {"Adjust loyalty points", "Export CRM data", "Erase CRM data"}


def test_extensions_pass_saleors_manifest_rules():
    """What Saleor's clean_manifest_data refuses: unknown mounts or targets, an absolute URL for
    APP_PAGE, permissions the app does not hold, a widget without its GET/POST method."""
    manifest = build_manifest(BASE)
    assert manifest["appUrl"] == f"{BASE}/dashboard"
    for extension in manifest["extensions"]:
        assert extension["mount"] in SALEOR_MOUNTS
        assert extension["target"] in SALEOR_TARGETS
        assert extension["label"] and len(extension["label"]) <= 256
        assert set(extension["permissions"]) <= STAFF_PERMISSIONS
        url = extension["url"]
        if extension["target"] == "APP_PAGE":
            assert url.startswith("/") and "://" not in url
            assert (manifest["appUrl"] + url).endswith("/dashboard/crm")
        else:
            parts = urlsplit(url)
            assert parts.scheme == "https" and url.startswith(f"{BASE}/dashboard/")
        if extension["target"] == "WIDGET":
            assert extension["options"]["widgetTarget"]["method"] in ("GET", "POST")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.view)
def test_every_page_is_served_as_an_iframeable_shell(page):
    response = Client().get(f"/dashboard/{page.view}")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-view="{page.view}"' in html
    assert 'data-graphql="/graphql/"' in html
    assert "X-Frame-Options" not in response.headers
    script = html.split('<script type="module" src="')[1].split('"')[0]
    asset = Client().get(script)
    assert asset.status_code == 200
    assert asset["Content-Type"] == "text/javascript"
    assert "immutable" in asset["Cache-Control"]


def test_the_apps_own_url_opens_the_crm_page():
    response = Client().get("/dashboard/")
    assert response.status_code == 200
    assert 'data-view="crm"' in response.content.decode()


def test_unknown_pages_and_escaping_asset_paths_are_404():
    assert Client().get("/dashboard/nothing-here").status_code == 404
    assert Client().get("/dashboard/assets/../../pages.py").status_code == 404
    assert Client().get("/dashboard/assets/missing.js").status_code == 404


def test_an_unbuilt_front_end_answers_a_clear_503(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(assets, "STATIC_DIR", tmp_path / "crm-dashboard")
    response = Client().get("/dashboard/widgets/customer")
    assert response.status_code == 503
    assert "not built" in response.content.decode()
    assert "scripts/setup" in response.content.decode()


def test_the_plugin_route_serves_the_same_pages_under_its_prefix(rf):
    from saleor_crm_plugin.plugin.door import dashboard_page

    request = rf.get("/plugins/saleor.crm/dashboard/widgets/customer?customerId=x")
    response = dashboard_page(request, "dashboard/widgets/customer")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-graphql="/plugins/saleor.crm/graphql/"' in html
    script = html.split('<script type="module" src="')[1].split('"')[0]
    assert script.startswith("/plugins/saleor.crm/dashboard/assets/")
    name = script.removeprefix("/plugins/saleor.crm/dashboard/")
    asset = dashboard_page(rf.get(script), f"dashboard/{name}")
    assert asset.status_code == 200
    assert dashboard_page(rf.get("/x"), "dashboard/nope").status_code == 404
