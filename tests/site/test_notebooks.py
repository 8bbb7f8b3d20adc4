"""The notebooks execute from scratch, and their plots are on the site."""

from __future__ import annotations

import copy
import sys

import nbformat
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from notebooks import NOTEBOOKS, build, execute  # noqa: E402

FOLDER = ROOT / "docs" / "notebooks"


@pytest.mark.parametrize("filename", sorted(NOTEBOOKS))
def test_notebook_executes_and_draws(filename):
    if not (ROOT / "docs" / "reference" / "code").is_dir():
        pytest.fail("the notebooks import the generated modules: run `make site` first (make test does)")
    notebook = build(NOTEBOOKS[filename])
    execute(copy.deepcopy(notebook), FOLDER)  # raises CellExecutionError on any failing cell


@pytest.mark.parametrize("filename", sorted(NOTEBOOKS))
def test_committed_notebook_is_current_and_has_its_plots(filename):
    committed = nbformat.read(FOLDER / filename, as_version=4)
    sources = [cell.source for cell in committed.cells]
    assert sources == [text for _, text in NOTEBOOKS[filename]], (
        "run `make notebooks` after changing tools/notebooks.py"
    )
    images = [
        o for c in committed.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})
    ]
    assert images, "the committed notebook has no plot outputs"


@pytest.mark.parametrize("filename", sorted(NOTEBOOKS))
def test_notebook_plots_appear_on_the_site(filename):
    page = ROOT / "site" / "notebooks" / f"{filename.removesuffix('.ipynb')}.html"
    assert page.is_file(), "run `make site` (make test does)"
    assert page.read_text().count("data:image/png") >= 1
