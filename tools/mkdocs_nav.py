"""MkDocs hook: puts every loss page in the site navigation.

The navigation is written by hand in ``mkdocs.yml``; its ``Catalog`` section lists only the
overview page. ``lossgen build`` writes the catalog's sections (one per task, in catalog
order) to ``docs/reference/nav.json``, and this hook adds them after the overview, so the
sidebar, the prev/next footer and search follow the catalog as it grows."""

from __future__ import annotations

import json
from pathlib import Path

from mkdocs.exceptions import PluginError

SECTION = "Catalog"
NAV_DATA = Path("reference") / "nav.json"


def on_config(config):
    path = Path(config["docs_dir"]) / NAV_DATA
    if not path.is_file():
        raise PluginError(f"{path} is missing: run `lossgen build --out docs/reference` (make generate) first")
    sections = json.loads(path.read_text(encoding="utf-8"))
    for entry in config["nav"]:
        if isinstance(entry, dict) and SECTION in entry:
            entry[SECTION] = [
                *entry[SECTION],
                *(
                    {s["heading"]: [{p["title"]: (NAV_DATA.parent / p["file"]).as_posix()} for p in s["pages"]]}
                    for s in sections
                ),
            ]
            return config
    raise PluginError(f"mkdocs.yml's nav has no `{SECTION}` section for the loss pages")
