"""The issue's proof, with a real Celery worker and a real SMTP server: abandoned carts in
Sydney, Tokyo, Berlin, Sao Paulo and New York get their reminders, in their language and
currency, the next morning on their own clock when due at night (on DST change days), and
nothing once they ordered.

The worker is a separate process running the periodic tasks as Celery beat would send them
(``saleor_crm.recovery.run``, then ``saleor_crm.messaging.send_due``), against the test
database and the test's SMTP server. Its clock is set by the test (``clock_worker.py``), so
"that night" and "the next morning" take seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection

from saleor_crm_plugin.demo import payloads as p
from saleor_crm_plugin.demo.catalogue import CHANNELS, PRODUCTS
from saleor_crm_plugin.inbox.services import accept, drain
from saleor_crm_plugin.models import Message, RecoveryFlow
from saleor_crm_plugin.tenants import store_settings

from .test_reminders import buy, customer

pytestmark = pytest.mark.django_db(transaction=True)

BROKER = "redis://127.0.0.1:6379/12"
ROOT = Path(__file__).resolve().parents[2]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    clock: Path
    log: Path
    app: Celery

    def run(self, task: str) -> int:
        result = self.app.send_task(task, ignore_result=False)
        try:
            return int(result.get(timeout=30))
        except Exception as exc:
            raise AssertionError(f"{task} failed: {self.log.read_text()[-3000:]}") from exc

    def tick(self, at: datetime) -> int:
        """At ``at`` on the worker's clock: start flows and queue due steps, then send what
        is due. Returns how many e-mails went out."""
        self.clock.write_text(at.isoformat())
        self.run("saleor_crm.recovery.run")
        return self.run("saleor_crm.messaging.send_due")


@pytest.fixture
def worker(smtp, tmp_path) -> Iterator[Worker]:
    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    db = connection.settings_dict
    clock, log = tmp_path / "clock", tmp_path / "worker.log"
    clock.write_text(utc(2026, 10, 1).isoformat())
    mail_settings = {
        name: getattr(__import__("django.conf").conf.settings, name)
        for name in (
            "EMAIL_BACKEND",
            "EMAIL_HOST",
            "EMAIL_PORT",
            "EMAIL_USE_TLS",
            "CRM_MESSAGE_SENDER",
            "CRM_SHOP_NAME",
            "CRM_PUBLIC_URL",
        )
    }
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "CELERY_BROKER_URL": BROKER,
        "CRM_TEST_RESULTS": BROKER,
        "CRM_TEST_CLOCK": str(clock),
        "CRM_TEST_SETTINGS": json.dumps(mail_settings),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.recovery.clock_worker"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),  # a file, not a pipe, which could fill and stall the worker
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the worker and its pool child
    )
    # Not the current app: shared tasks would bind to it and, once it is closed, every later
    # test's ``task.delay()`` would fail ("Acquire on closed pool").
    app = Celery("crm-test-publisher", broker=BROKER, backend=BROKER, set_as_current=False)
    yield Worker(process, clock, log, app)
    # The test is over and no task runs: end the worker and its pool child (its own process
    # group) at once rather than wait seconds for a warm shutdown.
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    app.close()
    client.flushdb()


@dataclass(frozen=True)
class Shopper:
    pk: int
    email: str
    country: str
    language: str
    channel: str
    price: Decimal


SYDNEY = Shopper(1, "mei@example.com.au", "AU", "ZH_HANS", "channel-aud", Decimal("20.00"))
TOKYO = Shopper(2, "kenji@example.jp", "JP", "JA", "channel-jpy", Decimal("2000"))
BERLIN = Shopper(3, "eva@example.de", "DE", "DE", "channel-eur", Decimal("20.00"))
SAO_PAULO = Shopper(4, "ana@example.com.br", "BR", "PT_BR", "channel-brl", Decimal("20.00"))
NEW_YORK = Shopper(5, "joe@example.com", "US", "EN", "default-channel", Decimal("20.00"))


def leave_cart(tenant, who: Shopper, at: datetime) -> p.Cart:
    """Three items at ``price`` (one, then two), the total three times the price."""
    person = p.Person(who.pk, who.email, "Eva", "Kern", who.language, who.country, True, at)
    channel = next(c for c in CHANNELS if c.slug == who.channel)
    lines = [(PRODUCTS[0], 1, who.price), (PRODUCTS[1], 2, who.price)]
    cart = p.Cart(f"tok-{who.pk}", channel, person, lines)
    body = p.body("CheckoutUpdated", at, p.principal(person), checkout=p.checkout(cart, at, False))
    accept(tenant, event="checkout_updated", body=body, headers={})
    drain()
    return cart


def mails(smtp, who: Shopper) -> list[tuple[str, str]]:
    """(subject, plain text) of what reached ``who``, spaces as people see them."""
    found = []
    for mail in smtp.to(who.email):
        text = mail.get_body(("plain",)).get_content()
        subject = " ".join(str(mail["Subject"]).split())  # unfolded, as a mail client shows it
        found.append((subject, text.replace("\xa0", " ").replace("\u202f", " ")))
    return found


def sent_at(who: Shopper) -> list[datetime]:
    rows = Message.objects.filter(profile__email=who.email, status="sent").order_by("sent_at")
    return [m.sent_at for m in rows]


def test_a_real_worker_sends_each_reminder_once_in_the_customers_language_and_morning(
    tenant, smtp, worker
):
    # One reminder an hour after the cart was left; the euro channel has three.
    store_settings.save(
        tenant,
        {
            "recovery_delays_hours": "1",
            "channel_settings": '{"channel-eur": {"recovery_delays_hours": "1,48,96"}}',
        },
    )
    for who in (SYDNEY, TOKYO, BERLIN, SAO_PAULO, NEW_YORK):
        customer(tenant, who.pk, who.email, who.country, who.language)
    # Sydney: left at 00:00 on 4 October, the night its clocks go forward (AEST -> AEDT).
    leave_cart(tenant, SYDNEY, utc(2026, 10, 3, 14, 0))
    # Tokyo (no DST): left at 01:30 on Sunday 25 October.
    leave_cart(tenant, TOKYO, utc(2026, 10, 24, 16, 30))
    # Berlin: left at 22:00 on Saturday 24 October; clocks go back that night (CEST -> CET)
    # and German marketing mail waits over Sundays.
    berlin_cart = leave_cart(tenant, BERLIN, utc(2026, 10, 24, 20, 0))
    # Sao Paulo (no DST since 2019): left at 22:00 on 31 October.
    leave_cart(tenant, SAO_PAULO, utc(2026, 11, 1, 1, 0))
    # New York: left at 01:00 EDT on 1 November, an hour before clocks go back (EST).
    leave_cart(tenant, NEW_YORK, utc(2026, 11, 1, 5, 0))

    # Sydney: due 01:00 AEST; the first morning is 09:00 AEDT, 22:00 UTC the day before.
    assert worker.tick(utc(2026, 10, 3, 15, 0)) == 0
    assert worker.tick(utc(2026, 10, 3, 21, 59)) == 0
    assert worker.tick(utc(2026, 10, 3, 22, 0)) == 1
    # Tokyo: due 02:30 JST, sent at 09:00 JST (00:00 UTC).
    assert worker.tick(utc(2026, 10, 24, 17, 30)) == 0
    # Berlin: due 23:00 CEST on Saturday; Sunday is closed; Monday 09:00 is CET (08:00 UTC).
    assert worker.tick(utc(2026, 10, 24, 21, 0)) == 0
    assert worker.tick(utc(2026, 10, 24, 23, 59)) == 0
    assert worker.tick(utc(2026, 10, 25, 0, 0)) == 1  # Tokyo's
    assert worker.tick(utc(2026, 10, 26, 7, 59)) == 0
    assert worker.tick(utc(2026, 10, 26, 8, 0)) == 1  # Berlin's first
    # Berlin's second step is due at 21:00 CET on Monday: it waits for Tuesday morning.
    assert worker.tick(utc(2026, 10, 26, 20, 0)) == 0
    assert worker.tick(utc(2026, 10, 27, 8, 0)) == 1
    # She buys on Tuesday; her third step (Wednesday evening) never comes.
    buy(tenant, berlin_cart, utc(2026, 10, 27, 12, 0))
    assert worker.tick(utc(2026, 10, 28, 20, 0)) == 0
    assert worker.tick(utc(2026, 10, 29, 9, 0)) == 0
    # Sao Paulo: due 23:00 BRT, sent at 09:00 BRT (12:00 UTC). New York: due 01:00 EST on
    # the fall-back day, sent at 09:00 EST (14:00 UTC, an hour later in UTC than the day before).
    assert worker.tick(utc(2026, 11, 1, 2, 0)) == 0
    assert worker.tick(utc(2026, 11, 1, 6, 0)) == 0
    assert worker.tick(utc(2026, 11, 1, 11, 59)) == 0
    assert worker.tick(utc(2026, 11, 1, 12, 0)) == 1
    assert worker.tick(utc(2026, 11, 1, 13, 59)) == 0
    assert worker.tick(utc(2026, 11, 1, 14, 0)) == 1

    assert sent_at(SYDNEY) == [utc(2026, 10, 3, 22, 0)]
    assert sent_at(TOKYO) == [utc(2026, 10, 25, 0, 0)]
    assert sent_at(BERLIN) == [utc(2026, 10, 26, 8, 0), utc(2026, 10, 27, 8, 0)]
    assert sent_at(SAO_PAULO) == [utc(2026, 11, 1, 12, 0)]
    assert sent_at(NEW_YORK) == [utc(2026, 11, 1, 14, 0)]

    two = f"2 \u00d7 {PRODUCTS[1].name}"  # the cart's second line: two of them
    [(subject, text)] = mails(smtp, SYDNEY)
    assert subject == "您的购物车中还有 3 件商品"
    assert f"{two}: AU$40.00" in text and "AU$60.00" in text
    [(subject, text)] = mails(smtp, TOKYO)
    assert subject == "カートに3点の商品が残っています"
    assert f"{two}: ￥4,000" in text and "￥6,000" in text
    berlin = mails(smtp, BERLIN)
    assert [s for s, _ in berlin] == ["In Ihrem Warenkorb liegen noch 3 Artikel"] * 2
    assert all(f"{two}: 40,00 €" in t and "60,00 €" in t for _, t in berlin)
    [(subject, text)] = mails(smtp, SAO_PAULO)  # no Portuguese catalog: English
    assert subject == "You left 3 items in your cart"
    assert f"{two}: R$40.00" in text and "R$60.00" in text
    [(subject, text)] = mails(smtp, NEW_YORK)
    assert subject == "You left 3 items in your cart"
    assert f"{two}: $40.00" in text and "$60.00" in text
    assert len(smtp.messages) == 6  # nothing else, nothing twice

    flow = RecoveryFlow.objects.get(profile__email=BERLIN.email)
    assert (flow.status, flow.recovered_step, flow.step) == ("recovered", 1, 2)
    assert worker.process.poll() is None, "the worker died"
