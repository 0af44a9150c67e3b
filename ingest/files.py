"""Writes that a reader never sees half done: write a hidden temporary file, then rename it."""

from __future__ import annotations

import json
from pathlib import Path


def write_json_atomically(path: Path, content: object) -> None:
    """Write JSON to `path` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(content, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
