"""Posting signed deliveries to the webhook door, as Saleor does, with its retries."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
from rich.progress import Progress

from .signing import DemoSigner
from .store import Delivery


@dataclass
class ReplayResult:
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    failed: int = 0
    seconds: float = 0.0


def _post(
    session: requests.Session, url: str, delivery: Delivery, signer: DemoSigner, api_url: str
) -> int:
    headers = signer.headers(delivery.event, delivery.body, api_url)
    for attempt in range(6):  # Saleor: one try and five retries
        try:
            status = session.post(url, data=delivery.body, headers=headers, timeout=20).status_code
        except requests.RequestException:
            status = 0
        if status and status < 500:
            return status
        time.sleep(min(0.2 * 2**attempt, 2.0))
    return status


def replay(
    deliveries: Sequence[Delivery],
    url: str,
    signer: DemoSigner,
    api_url: str,
    concurrency: int = 8,
    progress: bool = True,
) -> ReplayResult:
    """Send in arrival order, ``concurrency`` consecutive deliveries at a time."""
    result = ReplayResult()
    started = time.monotonic()
    sessions = [requests.Session() for _ in range(concurrency)]
    with ThreadPoolExecutor(max_workers=concurrency) as pool, Progress(disable=not progress) as bar:
        task = bar.add_task("replaying deliveries", total=len(deliveries))
        for offset in range(0, len(deliveries), concurrency):
            window = deliveries[offset : offset + concurrency]
            statuses = list(
                pool.map(
                    lambda pair: _post(sessions[pair[0]], url, pair[1], signer, api_url),
                    enumerate(window),
                )
            )
            for status in statuses:
                result.sent += 1
                if 200 <= status < 300:
                    result.accepted += 1
                elif 400 <= status < 500:
                    result.rejected += 1
                else:
                    result.failed += 1
            bar.advance(task, len(window))
    result.seconds = time.monotonic() - started
    return result
