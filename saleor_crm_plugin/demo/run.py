"""``saleor-crm demo``: a generated cross-border store, replayed through the real webhook door.

Nothing is faked past the door: deliveries are signed as Saleor signs them, posted over HTTP to
the running server, verified against the demo Saleor's JWKS, stored in the inbox and applied by
the same code as production. Only Saleor itself is replaced, by the generator.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import requests

DEMO_API_URL = "http://demo-saleor.localhost/graphql/"
START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "saleor_crm_plugin.cli", *args], env=env)


def _start_processes(host: str, port: int) -> list[subprocess.Popen[bytes]]:
    """The server (accepting only) and an applier, each in its own process.

    A drain thread inside the web process, or inside this replaying one, would make every
    request wait for the GIL behind its batches; separate processes keep the door fast.
    """
    from django.db import connection

    db = connection.settings_dict
    options = db.get("OPTIONS", {})
    host_part = options.get("host") or db.get("HOST") or "127.0.0.1"
    if str(host_part).startswith("/"):  # the embedded server listens on a socket
        url = f"postgresql://{db['USER']}@/{db['NAME']}?host={host_part}"
    else:
        url = f"postgresql://{db['USER']}@{host_part}:{db.get('PORT') or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "CRM_INBOX_DISPATCH": "external"}
    env.pop("CELERY_BROKER_URL", None)
    server = _spawn(["serve", "--host", host, "--port", str(port), "--workers", "2"], env)
    applier = _spawn(["drain", "--follow", "--interval", "0.5", "--quiet"], env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://{host}:{port}/api/manifest", timeout=2).ok:
                return [server, applier]
        except requests.RequestException:
            time.sleep(0.3)
    for process in (server, applier):
        process.terminate()
    raise RuntimeError(f"the server did not start on {host}:{port}")


def _wait_until_applied() -> None:
    from ..inbox.models import Delivery, DeliveryState

    while Delivery.objects.filter(state=DeliveryState.PENDING).exists():
        time.sleep(0.5)


def run_demo(*, host: str, port: int, customers: int, serve: bool) -> int:
    from django.core.management import call_command
    from rich.console import Console

    from ..inbox.models import Delivery, DeliveryState
    from ..money.services import load_rates
    from ..profiles.models import OrderRecord, Profile
    from ..tenants.services import register_tenant
    from .replay import replay
    from .signing import DemoSigner
    from .store import generate_store, rates_csv

    console = Console()
    call_command("migrate", interactive=False, verbosity=0)
    loaded = load_rates(io.StringIO(rates_csv(START, END)), source_name="demo").loaded
    signer = DemoSigner()
    register_tenant(
        api_url=DEMO_API_URL,
        app_token="demo-app-token",
        domain="demo-saleor.localhost",
        base_currency="EUR",
        jwks=signer.jwks(),
    )
    console.print(f"[bold]Saleor CRM demo[/bold]: {loaded} FX rates loaded (EUR base)")
    started = time.monotonic()
    deliveries = generate_store(customers=customers, start=START, end=END)
    console.print(
        f"generated {len(deliveries):,} Saleor deliveries for {customers:,} customers "
        f"in {time.monotonic() - started:.1f}s"
    )
    processes = _start_processes(host, port)
    base = f"http://{host}:{port}"
    try:
        result = replay(deliveries, f"{base}/api/webhooks", signer, DEMO_API_URL)
        with console.status("applying the inbox ..."):
            _wait_until_applied()
    except BaseException:
        for process in processes:
            process.terminate()
        raise
    console.print(
        f"replayed through the signed webhook door in {result.seconds:.1f}s: "
        f"{result.accepted:,} accepted, {result.rejected:,} rejected, {result.failed:,} failed"
    )
    failed = Delivery.objects.filter(state=DeliveryState.FAILED).count()
    console.print(
        f"{Profile.objects.count():,} customer profiles, {OrderRecord.objects.count():,} orders, "
        f"{failed:,} deliveries kept as failed (see crm_inbox_delivery.error_message)"
    )
    top = Profile.objects.order_by("-spent_gross_minor").first()
    token = signer.access_token(
        DEMO_API_URL, user_id="VXNlcjox", permissions=["MANAGE_USERS"], ttl=7 * 86400
    )
    console.print(
        f"\n  Manifest       {base}/api/manifest\n"
        f"  GraphQL        {base}/graphql/\n"
        f"  Top customer   {top.email if top else '-'}\n"
        f"  Dashboard      {base}/dashboard/ (opens inside Saleor's dashboard once the app is\n"
        "                 installed from the manifest: it gets its token over the app-bridge)\n\n"
        "  A demo staff token (MANAGE_USERS, valid 7 days) for the GraphQL explorer's headers:\n"
        f'  {{"Authorization": "Bearer {token}"}}\n',
        soft_wrap=True,
    )
    if serve:
        console.print("Serving; Ctrl+C to stop.")
        try:
            processes[0].wait()
        except KeyboardInterrupt:
            pass
    for process in processes:
        process.terminate()
        process.wait(timeout=30)
    return 0
