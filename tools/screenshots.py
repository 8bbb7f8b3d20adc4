"""Screenshots of the built site, desktop (1280 × 900) and phone (390 × 844), opened from
disk as a user would: the start page, the catalog, the plot gallery and a reference page.

Usage: ``.venv/bin/python tools/screenshots.py [OUT]`` after ``make site`` (default OUT:
``tests/artifacts/screens``). Needs Chromium (``make browser``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "start": "get-started.html",
    "catalog": "reference/index.html",
    "gallery": "reference/gallery.html",
    "reference": "reference/binary_focal.html",
}
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for page, path in PAGES.items():
        for device, (width, height) in SIZES.items():
            target = out / f"{page}-{device}.png"
            command = [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--screenshot={target}",
                f"--window-size={width},{height}",
                (ROOT / "site" / path).as_uri(),
            ]
            subprocess.run(command, check=True, capture_output=True, timeout=120)
            print(target)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "artifacts" / "screens")
