"""MkDocs hook: no empty sitemap.

A sitemap lists absolute addresses, so MkDocs can only write one when it knows where the
site is served (``site_url``). lossgen's site has no fixed address: whoever deploys it sets
``LOSSGEN_SITE_URL`` (``mkdocs.yml`` reads it), and then every page is listed. Without it
MkDocs still writes ``sitemap.xml`` with no page in it, which tells a crawler the site is
empty; this hook removes it (and its gzipped copy) instead."""

from __future__ import annotations

from pathlib import Path

SITEMAPS = ("sitemap.xml", "sitemap.xml.gz")


def on_post_build(config) -> None:
    if config.get("site_url"):
        return
    for name in SITEMAPS:
        (Path(config["site_dir"]) / name).unlink(missing_ok=True)
