"""The real Saleor 3.24 deliveries in ``../shared/saleor/fixtures`` as test inputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "saleor" / "fixtures"
API_URL = "http://127.0.0.1:8000/graphql/"


@dataclass(frozen=True)
class Recorded:
    seq: int
    event: str
    file: str
    body: bytes
    headers: dict[str, str]


@cache
def deliveries() -> tuple[Recorded, ...]:
    """Every recorded delivery in arrival order, with its exact bytes and headers."""
    folder = FIXTURES / "deliveries"
    found = []
    for line in (folder / "index.jsonl").read_text().splitlines():
        item = json.loads(line)
        found.append(
            Recorded(
                seq=item["seq"],
                event=item["event"],
                file=item["file"],
                body=(folder / f"{item['file']}.body").read_bytes(),
                headers=json.loads((folder / f"{item['file']}.headers.json").read_text()),
            )
        )
    return tuple(found)


def delivery(seq: int) -> Recorded:
    return next(d for d in deliveries() if d.seq == seq)


def jwks() -> dict:
    return json.loads((FIXTURES / "jwks.json").read_text())


def request_headers(recorded: Recorded) -> dict[str, str]:
    """Headers to send again; hop-by-hop ones are the HTTP client's business."""
    skip = {"host", "content-length", "connection", "accept-encoding"}
    return {k: v for k, v in recorded.headers.items() if k.lower() not in skip}
