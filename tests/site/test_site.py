"""The built site: every Python block runs, and a real browser checks a reference page
offline (math, tabs, copy buttons, plot, search, no outside requests).

`make test` builds the site first (`make site`: mkdocs build --strict, so any warning
fails it); these tests read site/.
"""

from __future__ import annotations

import functools
import html
import http.server
import io
import os
import re
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import BATCH_LEVEL, ROOT, catalog_names, keras_twin_names

from generator.spec.names import FORMS

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
GUIDES = sorted(p.stem for p in (ROOT / "docs" / "guides").glob("*.md"))
SOURCES = ("specs", "templates", "generator", "docs", "benchmarks", "mkdocs.yml")


def _newest_source() -> float:
    newest = 0.0
    for name in SOURCES:
        root = ROOT / name
        paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in paths:
            if "reference" in path.relative_to(ROOT).parts or "__pycache__" in path.parts:
                continue
            newest = max(newest, path.stat().st_mtime)
    return newest


@pytest.fixture(scope="session")
def site() -> Path:
    """The site `make site` built (make test builds it first, with mkdocs build --strict)."""
    index = ROOT / "site" / "index.html"
    if not index.is_file():
        pytest.fail("no built site: run `make site` (make test does it first)")
    if index.stat().st_mtime < _newest_source():
        pytest.fail("site/ is older than its sources: run `make site` (make test does it first)")
    return ROOT / "site"


def page_file(site: Path, page: str) -> Path:
    """The built file of a page: ``reference/huber`` is ``reference/huber.html`` (the
    offline plugin turns directory URLs off, so links work from disk)."""
    return site / f"{page}.html"


def test_the_plot_gallery_shows_every_loss_and_no_flat_plot(site):
    """The contact sheet of every plot: each loss's two panels in both palettes, under a
    link to its page; no loss plotted flat along its scan (its plot would show nothing);
    the table of findings counts the losses listed."""
    page = page_file(site, "reference/gallery").read_text(encoding="utf-8")
    for name in catalog_names():
        assert f'href="{name}.html"' in page, name
        for panel in ("loss", "slope"):
            for palette in ("light", "dark"):
                assert f'src="plots/{name}-{panel}-{palette}.svg' in page, (name, panel, palette)
                assert (site / "reference" / "plots" / f"{name}-{panel}-{palette}.svg").is_file()
    assert "constant along this scan" not in page
    rows = re.findall(r"<tr>\s*<td>scan: [^<]*</td>\s*<td>(\d+)</td>", page)
    assert sum(int(n) for n in rows) == len(catalog_names())  # every plot has one scan


def test_every_measured_loss_page_says_its_memory(site):
    """make site passes benchmarks/results.json to lossgen build: the page of every loss
    whose memory make bench measured (the batch-level ones, at batch 4096) gives the figure
    recorded there, or says that it did not fit."""
    import json

    measured = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))["peers"]["memory"]
    assert set(measured) == set(BATCH_LEVEL)  # make bench measures every batch-level loss
    for name, found in measured.items():
        text = re.sub(
            r"\s+", " ", re.sub(r"<[^>]+>", "", page_file(site, f"reference/{name}").read_text(encoding="utf-8"))
        )
        assert "Memory. " in text, name
        if "peak_mib" in found:
            mib = found["peak_mib"]
            figure = f"{mib / 1024:.2f} GiB" if mib >= 1024 else f"{mib:,.0f} MiB"
            assert f"raise the peak memory of a process by {figure}" in text, (name, figure)
        else:
            assert f"does not fit in {found['limit_gib']:g} GiB of address space" in text, name
    unmeasured = next(n for n in catalog_names() if n not in measured)
    assert "Memory. " not in page_file(site, f"reference/{unmeasured}").read_text(encoding="utf-8")


def test_a_sitemap_lists_every_page_or_is_not_written(site):
    """MkDocs writes an empty sitemap when it does not know the site's address; the hook
    (tools/mkdocs_sitemap.py) removes it. With LOSSGEN_SITE_URL set, every page is in it."""
    sitemap = site / "sitemap.xml"
    if not os.environ.get("LOSSGEN_SITE_URL"):
        assert not sitemap.exists() and not (site / "sitemap.xml.gz").exists()
        return
    listed = re.findall(r"<loc>([^<]+)</loc>", sitemap.read_text(encoding="utf-8"))
    assert len(listed) >= len(catalog_names()) + 10, len(listed)


def test_every_catalog_loss_has_a_reference_page(site):
    for name in catalog_names():
        assert page_file(site, f"reference/{name}").is_file(), name
    assert page_file(site, "reference/index").is_file()


def test_the_performance_page_has_a_row_per_keras_twin_and_its_plot(site):
    """The page `make bench` results feed: in the site, linked from the home page, with a
    table row for every catalog loss that has a Keras twin and the plot in both palettes."""
    page = page_file(site, "performance").read_text(encoding="utf-8")
    twins = keras_twin_names()
    assert len(twins) >= 20
    for name in twins:
        assert f'href="reference/{name}.html"' in page, name
    for palette in ("light", "dark"):
        assert f'src="performance/ratios-{palette}.svg' in page
        assert (site / "performance" / f"ratios-{palette}.svg").read_text(encoding="utf-8").startswith("<?xml")
    assert 'href="performance.html"' in page_file(site, "index").read_text(encoding="utf-8")


# ---------------------------------------------------------------- code blocks


_BLOCK = re.compile(r'<div class="([^"]*\blanguage-python\b[^"]*)"[^>]*>.*?<code[^>]*>(.*?)</code>', re.S)
"""A highlighted Python block: its class list and the HTML of its code (escaped, so no
``</code>`` inside). Matching the blocks directly is ~50 times faster than parsing whole
pages into trees."""


_TAG = re.compile(r"<[^>]+>")


def python_blocks(page: Path) -> list[tuple[str, bool]]:
    """(code, is_fragment) for every Python block of a built page."""
    blocks = []
    for classes, inner in _BLOCK.findall(page.read_text(encoding="utf-8")):
        if "highlight" not in classes.split():
            continue
        text = _TAG.sub("", inner)  # Pygments' spans; the code itself is escaped
        blocks.append((html.unescape(text), "fragment" in classes.split()))
    return blocks


def _run_block(code: str, cwd: Path, out: io.StringIO | None = None) -> str:
    """Run one page block in this interpreter, as ``python -c`` would in ``cwd``: a fresh
    ``__main__`` namespace, ``cwd`` as working directory and first on ``sys.path``. Returns
    the error (traceback) text, or "" when the block ran. The modules it imported from
    ``cwd`` are forgotten afterwards, so the next block imports its own. The Keras session
    is not cleared: that cost half of each block (its garbage collection), and only layer
    names depend on it. Functions run eagerly (tf.function tracing would be most of the
    cost). A fresh interpreter per block cost ~7 CPU-seconds of TensorFlow start-up each,
    graph mode in this process ~1.3, eagerly ~0.5, without clearing the session ~0.3. What
    this leaves to other tests is proven there once per spec and form: that a saved model
    reloads in a new process and evaluates and trains there traced
    (tests/check/test_reload.py's probe)."""
    import contextlib
    import traceback
    import warnings

    import tensorflow as tf

    before = set(sys.modules)
    old_cwd = os.getcwd()
    os.chdir(cwd)
    sys.path.insert(0, str(cwd))
    tf.config.run_functions_eagerly(True)
    try:
        with contextlib.redirect_stdout(out if out is not None else io.StringIO()), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Even though the `tf.config.experimental_run_functions_eagerly`")
            exec(compile(code, "<page block>", "exec"), {"__name__": "__main__"})
        return ""
    except BaseException:  # noqa: BLE001 - any failure of the block is the finding
        return traceback.format_exc()
    finally:
        tf.config.run_functions_eagerly(False)
        os.chdir(old_cwd)
        sys.path.remove(str(cwd))
        for name in set(sys.modules) - before:
            if str(cwd) in str(getattr(sys.modules[name], "__file__", "") or ""):
                del sys.modules[name]


def _check_page_blocks(page: Path, cwd: Path) -> int:
    ran = 0
    for i, (code, fragment) in enumerate(python_blocks(page)):
        if fragment:
            continue
        error = _run_block(code, cwd)
        assert not error, f"block {i} of {page}:\n{code}\n--- error ---\n{error[-3000:]}"
        ran += 1
    return ran


RELOAD_MARKER = "# ---- Later, in a new Python process"


@pytest.mark.parametrize("name", catalog_names())
def test_every_python_block_of_a_reference_page_runs(site, name, tmp_path):
    """A reference page has three complete modules and three programs. Each module block is
    byte-for-byte the downloadable file, and the programs import those files in a fresh
    interpreter's ``__main__`` (as a user who downloaded them would), so running the programs
    runs the exact code of every block."""
    files = {p.name: p.read_text() for p in (site / "reference" / "code").glob(f"{name}_*.py")}
    for filename, text in files.items():
        (tmp_path / filename).write_text(text)
    page = page_file(site, f"reference/{name}")
    blocks = python_blocks(page)
    examples = [block for block in blocks if EXAMPLE_MARKER in block[0]]
    blocks = [block for block in blocks if block not in examples]
    assert len(blocks) == 6 and not any(fragment for _, fragment in blocks + examples)
    modules, programs = [code for code, _ in blocks[:3]], [code for code, _ in blocks[3:]]
    assert sorted(modules) == sorted(files[f"{name}_{form}.py"] for form in FORMS)
    for form, program in zip(FORMS, programs, strict=True):
        assert f"from {name}_{form} import" in program
        # The reload half stands alone (a user copies it into another script): it runs
        # in a namespace of its own, after the first half saved the model and the data.
        train, marker, reload = program.partition(RELOAD_MARKER)
        assert marker, f"{form} program of {page} has no `{RELOAD_MARKER}` line"
        for half in (train, marker + reload):
            error = _run_block(half, tmp_path)
            assert not error, f"{form} program of {page}:\n{half}\n{error[-3000:]}"
    for code, _ in examples:
        _check_worked_example(code, tmp_path, page)


EXAMPLE_MARKER = "print(np.asarray("
_NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?|nan|inf", re.I)


def _check_worked_example(code: str, cwd: Path, page: Path) -> None:
    """The worked example prints what its last line says: the function's float32 values
    against the float64 evaluation written into the page at build time, to the 4
    significant digits shown."""
    out = io.StringIO()
    error = _run_block(code, cwd, out)
    assert not error, f"worked example of {page}:\n{code}\n{error[-3000:]}"
    printed = [float(v) for v in _NUMBER.findall(out.getvalue())]
    shown = [float(v) for v in _NUMBER.findall(code.rstrip().splitlines()[-1])]
    assert len(printed) == len(shown) == 4, (page, out.getvalue(), shown)
    scale = max(abs(v) for v in shown)
    np.testing.assert_allclose(printed, shown, rtol=6e-4, atol=1e-4 * scale + 1e-9, err_msg=str(page))


@pytest.mark.parametrize("guide", [*(f"guides/{g}" for g in GUIDES), "get-started"])
def test_every_python_block_of_a_guide_runs(site, guide, tmp_path):
    """Each block as a user pastes it, next to the catalog modules it imports (downloaded
    from their reference pages, as the getting-started page says)."""
    page = page_file(site, guide)
    fences = (ROOT / "docs" / f"{guide}.md").read_text(encoding="utf-8").count("```python")
    blocks = python_blocks(page)
    assert len(blocks) == fences, "the page's Python blocks are not the guide's"
    code = site / "reference" / "code"
    for module in {m for text, _ in blocks for m in re.findall(r"^from (\w+) import", text, re.M)}:
        if (code / f"{module}.py").is_file():
            (tmp_path / f"{module}.py").write_text((code / f"{module}.py").read_text(encoding="utf-8"))
    _check_page_blocks(page, tmp_path)


def test_fragments_are_few(site):
    pages = list(site.rglob("*.html"))
    blocks = [block for page in pages for block in python_blocks(page)]
    fragments = sum(fragment for _, fragment in blocks)
    total = len(blocks)
    assert total >= 6 * len(catalog_names()), f"only {total} Python blocks found in the site"
    assert fragments <= max(3, total // 10), f"{fragments} of {total} blocks are marked as fragments"


# ---------------------------------------------------------------- in a browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make browser` (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        flags = [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ]
        instance = p.chromium.launch(executable_path=CHROMIUM, args=flags)
        yield instance
        instance.close()


CRAWLED = [
    "index.html",
    "get-started.html",
    *(f"guides/{g}.html" for g in GUIDES),
    "notebooks/imbalanced-regression.html",
    "notebooks/imbalanced-classification.html",
    "reference/index.html",
    "reference/gallery.html",
    "reference/cli.html",
    "reference/vocabulary.html",
    "performance.html",
    "reference/binary_focal.html",
    "reference/ssim.html",
    "reference/triplet_hard.html",
]
"""One page of every kind the site has: each is opened in the browser, scripts, styles,
math, images and search index included."""


@pytest.mark.xdist_group("browser")
def test_pages_of_every_kind_open_without_a_console_error(server, browser):
    """The crawl in a real browser: no console error (a script that throws, a resource that
    does not load) and no uncaught exception, on a page of every kind, notebooks included."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []

    def on_console(message) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    def on_error(error) -> None:
        problems.append(f"exception: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_error)
    for path in CRAWLED:
        before = len(problems)
        page.goto(f"{server}/{path}", wait_until="load")
        problems[before:] = [f"{path}: {p}" for p in problems[before:]]
    page.close()
    assert not problems, "\n".join(problems)


@pytest.mark.xdist_group("browser")
def test_reference_page_in_a_real_browser(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{server}/reference/binary_focal.html", wait_until="networkidle")

    # Math is typeset by the bundled KaTeX, not left as TeX source.
    page.wait_for_selector(".arithmatex .katex")
    assert page.locator(".katex").count() >= 2
    assert "\\begin{aligned}" not in page.locator("article").inner_text()

    # The three implementation tabs switch (and linked tabs switch together).
    factory_tab = page.locator(".tabbed-labels label", has_text="Factory").first
    factory_tab.click()
    visible = page.locator(".tabbed-block:visible code").first.inner_text()
    assert "def make_binary_focal" in visible
    page.locator(".tabbed-labels label", has_text="Loss subclass").first.click()
    assert "class BinaryFocal" in page.locator(".tabbed-block:visible code").first.inner_text()

    # Copy buttons on code blocks.
    assert page.locator("button.md-code__button[data-md-type='copy']").count() >= 3

    # The plot loads.
    plot = page.locator("img[src*='binary_focal-loss-light.svg']")
    assert plot.evaluate("img => img.complete && img.naturalWidth > 0")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "binary_focal-light.png"), full_page=False)
    page.locator("label[for='__palette_1']").first.click()  # switch to the dark palette
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    assert page.locator("img[src*='binary_focal-slope-dark.svg']").evaluate("img => img.naturalWidth > 0")
    page.screenshot(path=str(ARTIFACTS / "binary_focal-dark.png"), full_page=False)

    # Search finds the focal loss.
    page.locator("input.md-search__input").first.click()
    page.keyboard.type("focal")
    page.wait_for_selector(".md-search-result__item")
    assert "focal" in page.locator(".md-search-result").inner_text().lower()

    outside = [url for url in requests if not url.startswith(server) and not url.startswith("data:")]
    assert not outside, f"requests left localhost: {outside}"
    page.close()


@pytest.mark.xdist_group("browser")
def test_the_site_opened_from_disk_works(site, browser):
    """As the README says: open site/index.html from disk, with no server. Links open
    pages (not folder listings), math is typeset, and search answers, on a narrow phone
    screen too."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto((site / "index.html").as_uri(), wait_until="load")
    page.locator("article a", has_text="catalog").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/reference/index.html"), page.url
    page.locator("article a", has_text="Wing loss").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/reference/wing.html"), page.url
    page.wait_for_selector(".arithmatex .katex")
    assert "\\begin{aligned}" not in page.locator("article").inner_text()
    # The two plots stack, each at nearly the screen's width.
    loss, slope = (page.locator(f"img[src*='wing-{panel}-light.svg']").bounding_box() for panel in ("loss", "slope"))
    assert loss["width"] > 300 and slope["width"] > 300, (loss, slope)
    assert slope["y"] >= loss["y"] + loss["height"] - 1, (loss, slope)

    page.locator("label[for='__search']").first.click()
    page.locator("input.md-search__input").click()
    page.keyboard.type("keypoint")  # "(keypoint)" on the wing loss's page
    page.wait_for_selector(".md-search-result__item", timeout=15000)
    assert "wing" in page.locator(".md-search-result").inner_text().lower()
    # The guide about the subject comes before the loss pages that mention it.
    page.locator("input.md-search__input").fill("")
    page.keyboard.type("reload")
    page.wait_for_function(
        """() => {
            const first = document.querySelector('.md-search-result__item h1');
            return first !== null && first.innerText.startsWith('Saving and reloading');
        }""",
        timeout=15000,
    )
    page.close()


def test_no_page_loads_anything_from_outside(site):
    """Scripts, styles, images and fonts all come from the site itself."""
    import re

    pattern = re.compile(r"<(?:script|img|link|iframe|source)\b[^>]*(?:src|href)=\"(?:https?:)?//[^\"]*", re.IGNORECASE)
    pages = list(site.rglob("*.html"))
    assert len(pages) > 20
    outside = [f"{page}: {m.group(0)}" for page in pages for m in pattern.finditer(page.read_text(encoding="utf-8"))]
    assert not outside, outside[:5]


_LINK = re.compile(r'<(?:a|link|img|script|source)\b[^>]*?\b(?:href|src)="([^"]+)"', re.I)
_ID = re.compile(r'\bid="([^"]+)"')


def test_every_link_of_the_site_leads_somewhere(site):
    """Every relative link and source of every built page, the notebooks' pages included
    (which `mkdocs build --strict` does not check), names a file of the site, and its
    #fragment an id on that page."""
    ids: dict[Path, set[str]] = {}

    def ids_of(path: Path) -> set[str]:
        if path not in ids:
            ids[path] = set(_ID.findall(path.read_text(encoding="utf-8")))
        return ids[path]

    pages = sorted(site.rglob("*.html"))
    broken = []
    checked = 0
    for page in pages:
        for link in _LINK.findall(page.read_text(encoding="utf-8")):
            link = html.unescape(link)
            if re.match(r"[a-z][a-z0-9+.-]*:|//", link, re.I):
                continue  # another site, data:, mailto:, javascript:
            target, _, fragment = link.partition("#")
            target = target.partition("?")[0]
            if target.startswith("/"):  # the 404 page's links start at the site's root
                path = site / target.lstrip("/")
            else:
                path = (page.parent / target).resolve() if target else page
            if path.is_dir():
                path = path / "index.html"
            checked += 1
            if not path.is_file():
                broken.append(f"{page.relative_to(site)}: {link} (no such file)")
            elif (
                fragment
                and path.suffix == ".html"
                and fragment not in ids_of(path)
                and fragment
                not in (
                    "only-light",
                    "only-dark",
                    "__codelineno",
                )
            ):
                broken.append(f"{page.relative_to(site)}: {link} (no id {fragment!r} there)")
    assert checked > 1000
    assert not broken, f"{len(broken)} broken links, the first: {broken[:10]}"


_CODE_SPAN = re.compile(r'(<a [^>]*href="([a-z0-9_]+)\.html"[^>]*>)?<code>([a-z][a-z0-9_]*)</code>')


def test_every_catalog_loss_named_on_a_reference_page_is_a_link(site):
    """A loss named in a page's prose (`dice`) links to its page, and the page lists the
    losses it names under "See also"."""
    names = set(catalog_names())
    unlinked, linked = [], 0
    for name in sorted(names):
        text = page_file(site, f"reference/{name}").read_text(encoding="utf-8")
        article = text[text.index("<article") : text.index("</article>")]
        for anchor, target, word in _CODE_SPAN.findall(article):
            if word in names and word != name:
                if anchor and target == word:
                    linked += 1
                else:
                    unlinked.append(f"{name}: {word}")
    assert linked > 100
    assert not unlinked, unlinked[:10]
    dice = page_file(site, "reference/dice").read_text(encoding="utf-8")
    see_also = dice[dice.index('id="see-also"') :]
    assert 'href="bce_dice.html"' in see_also[: see_also.index("</ul>")]
