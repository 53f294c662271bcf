"""Hook events the CRM could not store during Saleor's request, stored later by one thread.

Saleor runs plugin hooks inside the shopper's request and waits for them. When the CRM's
database is slow or locked, or the CRM's own code fails, the hook gives up after a short bound
and leaves the event here instead of losing it; a background thread stores it in the inbox
once the fault clears. While the database is known to be failing, hooks skip their own attempt
altogether and come straight here, so a checkout (several hooks) waits at most one bound once
per outage, not once per hook.

What this does not survive: the web process ending while events wait here (they live only in
its memory). Saleor's own records are then the source: ``saleor-crm backfill`` reads orders and
customers back. Each wait and each loss is logged with the hook's name.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection

from ..conf import crm_settings
from ..tenants.store_settings import StoreSettings

logger = logging.getLogger(__name__)

# Failures that are not the database's (the CRM's own code raising on this object) are tried a
# few times, in case they depended on a passing state, then given up and logged.
CODE_ATTEMPTS = 5
MAX_BACKOFF_SECONDS = 30.0


@dataclass
class Held:
    hook: str
    obj: Any
    settings: StoreSettings
    event: str | None = None  # with ``body``: the state Saleor showed during its request
    body: bytes | None = None
    code_failures: int = 0
    next_try: float = 0.0


class Spool:
    def __init__(self) -> None:
        self._items: deque[Held] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._busy = False
        self._now = False  # ``flush`` asks for every item to be tried at once
        self.database_failing = False
        self.lost = 0

    def __len__(self) -> int:
        return len(self._items)

    def hooks(self) -> list[str]:
        """The hooks whose events are held, oldest first (what an operator or a test looks at)."""
        with self._cond:
            return [item.hook for item in self._items]

    def hold(self, item: Held, *, database_failed: bool) -> None:
        """Keep ``item`` for the background thread; never raises, never blocks on I/O."""
        with self._cond:
            if database_failed:
                self.database_failing = True
            if len(self._items) >= crm_settings.PLUGIN_SPOOL_LIMIT:
                self.lost += 1
                logger.error(
                    "CRM lost %s: %d hook events already wait for the database",
                    item.hook,
                    len(self._items),
                    extra={"event": item.hook, "source": "plugin", "outcome": "lost"},
                )
                return
            self._items.append(item)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="crm-spool", daemon=True)
                self._thread.start()
            if not self.database_failing:
                self._cond.notify_all()  # otherwise the thread's next try comes soon enough

    def flush(self, timeout: float) -> bool:
        """Try everything now, and wait until nothing is held (True) or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._items or self._busy:
                if not self._busy:
                    self._now = True
                    self._cond.notify_all()
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def clear(self) -> None:
        """Forget what is held and that the database failed (tests start from nothing)."""
        with self._cond:
            self._items.clear()
            self.database_failing = False
            self.lost = 0

    def _run(self) -> None:
        backoff = 0.5
        while True:
            with self._cond:
                while not self._items:
                    self._cond.wait()
                self._busy, everything = True, self._now
                self._now = False
            try:
                database_ok = self._round(everything)
            finally:
                connection.close()  # an idle thread holds no connection of the shared pool
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
            backoff = 0.5 if database_ok else min(backoff * 2, MAX_BACKOFF_SECONDS)
            with self._cond:
                if self._items and not self._now:
                    soonest = min(item.next_try for item in self._items) - time.monotonic()
                    wait = backoff if not database_ok else max(soonest, 0.05)
                    self._cond.wait(wait)  # ``flush`` or a new event wakes it sooner

    def _round(self, everything: bool) -> bool:
        """Store what is held and due, oldest first; False at the first database failure."""
        from .door import store

        kept: deque[Held] = deque()
        while True:
            with self._cond:
                if not self._items:
                    self._items.extendleft(reversed(kept))
                    return True
                item = self._items.popleft()
            if not everything and item.next_try > time.monotonic():
                kept.append(item)
                continue
            try:
                store(item, timeout_ms=crm_settings.WEBHOOK_DB_TIMEOUT_MS)
                self.database_failing = False
            except DatabaseError as exc:
                logger.warning("CRM still cannot store %s: %s", item.hook, type(exc).__name__)
                with self._cond:
                    self.database_failing = True
                    self._items.appendleft(item)
                    self._items.extendleft(reversed(kept))
                return False
            except Exception as exc:
                item.code_failures += 1
                if item.code_failures < CODE_ATTEMPTS:
                    item.next_try = time.monotonic() + 0.5 * 2**item.code_failures
                    kept.append(item)
                    continue
                with self._cond:
                    self.lost += 1
                logger.error(
                    "CRM gave up on %s after %d failures: %s",
                    item.hook,
                    item.code_failures,
                    type(exc).__name__,
                    extra={"event": item.hook, "source": "plugin", "outcome": "lost"},
                )


spool = Spool()
