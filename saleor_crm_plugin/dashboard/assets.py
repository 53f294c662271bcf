"""The built front end: where it lies in the package and what its entry files are called.

Vite writes hashed file names and a ``.vite/manifest.json`` naming them; reading that manifest
tells the shell which script and style sheets to load, and lets the assets be cached for good.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static" / "crm-dashboard"
ENTRY = "index.html"


@dataclass(frozen=True)
class Build:
    script: str
    styles: tuple[str, ...]


class AssetsMissing(Exception):
    """The front end was not built (a source checkout before ``scripts/setup``)."""


def current_build(static_dir: Path | None = None) -> Build:
    """Reads the manifest on every call: it is small, and a rebuild shows up without a restart."""
    static_dir = static_dir or STATIC_DIR
    try:
        manifest = json.loads((static_dir / ".vite" / "manifest.json").read_text("utf-8"))
        entry = manifest[ENTRY]
    except (OSError, ValueError, KeyError) as exc:
        raise AssetsMissing(str(static_dir)) from exc
    return Build(script=entry["file"], styles=tuple(entry.get("css", ())))


def asset_path(name: str, static_dir: Path | None = None) -> Path | None:
    """The file for ``assets/<name>``, or None when it is absent or escapes the folder."""
    static_dir = static_dir or STATIC_DIR
    root = (static_dir / "assets").resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path
