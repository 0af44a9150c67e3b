"""Where the deployment's site folder is (`SOCORG_SITE`), and its `layouts/` and `seeds/` folders."""

from __future__ import annotations

import os
from pathlib import Path

from ingest.common.errors import SocorgError


class SiteError(SocorgError):
    """A site file that cannot be used: the message names the file and the line."""


def site_dir() -> Path | None:
    """The site folder given by `SOCORG_SITE`, if any (the bundled layouts are used alone otherwise)."""
    setting = os.environ.get("SOCORG_SITE", "").strip()
    return Path(setting).expanduser().resolve() if setting else None


def site_layouts() -> Path | None:
    """`<site>/layouts/`: layouts that add to the bundled ones, or replace one of the same file name."""
    site = site_dir()
    if site is None:
        return None
    if not site.is_dir():
        raise SiteError(f"SOCORG_SITE: {site} is not a folder")
    folder = site / "layouts"
    return folder if folder.is_dir() else None


def site_seeds() -> Path | None:
    """`<site>/seeds/`: reference CSVs that replace the bundled ones of the same name."""
    site = site_dir()
    folder = site / "seeds" if site else None
    return folder if folder and folder.is_dir() else None
