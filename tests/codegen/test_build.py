"""`lossgen build`: deterministic, fast, Keras-free, ruff-clean, atomic."""

from __future__ import annotations

import ast
import hashlib
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT, SPECS, catalog_names, run_cli

from generator.codegen.formatting import ruff_binary
from generator.codegen.write import MARKER
from generator.spec import shapes

RUFF_RULES = "E,W,F,I,B,UP,N,C4,SIM"


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def catalog_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "out"
    result = run_cli("build", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_build_writes_every_form_and_page(catalog_build):
    names = catalog_names()
    assert len(names) >= 17
    for name in names:
        for suffix in ("", "_function", "_factory", "_class"):
            assert (catalog_build / "code" / f"{name}{suffix}.py").is_file()
        assert (catalog_build / f"{name}.md").is_file()
    assert (catalog_build / "index.md").is_file()
    assert (catalog_build / MARKER).is_file()


def test_build_is_deterministic_across_runs_and_hash_seeds(tmp_path):
    trees = []
    for seed in ("1", "2"):
        out = tmp_path / f"out{seed}"
        result = run_cli("build", "--out", str(out), env={"PYTHONHASHSEED": seed}, fresh=True)
        assert result.returncode == 0, result.stderr
        trees.append(_tree(out))
    assert trees[0] == trees[1]


def test_build_does_not_import_keras(tmp_path):
    """The generator never imports a backend. How long it takes is `make bench`'s business
    (`tools/bench.py` times `lossgen build`): a busy machine must not fail a test."""
    script = textwrap.dedent(
        f"""
        import sys
        from generator.cli import main
        try:
            main(["build", "--out", {str(tmp_path / "out")!r}])
        except SystemExit as exc:
            assert not exc.code, exc.code
        heavy = sorted(m for m in ("tensorflow", "keras", "jax", "torch") if m in sys.modules)
        print(",".join(heavy) or "-")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    heavy = result.stdout.strip()
    assert heavy == "-", f"lossgen build imported {heavy}"


def test_generated_code_is_ruff_clean(catalog_build):
    code = catalog_build / "code"
    ruff = ruff_binary()
    check = [ruff, "check", "--isolated", f"--select={RUFF_RULES}", "--line-length=88", "--target-version=py310"]
    result = subprocess.run([*check, str(code)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    fmt = [ruff, "format", "--isolated", "--check", "--line-length=88", str(code)]
    result = subprocess.run(fmt, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_for_the_longest_title_is_ruff_clean(tmp_path):
    """A title of the 60 characters the schema allows still gives lines ruff accepts (the
    class docstring's first line drops its suffix when it would not fit)."""
    from generator.codegen.pipeline import generate
    from generator.spec.loader import load_spec

    title = "A title exactly as long as the schema allows, sixty letters."
    assert len(title) == 60
    spec = tmp_path / "long_title.yaml"
    spec.write_text(
        f"name: long_title\ntitle: {title}\ntask: regression\nsummary: Long.\n"
        "formula:\n  loss: square(y_pred - y_true)\n",
        encoding="utf-8",
    )
    code = tmp_path / "long_title.py"
    code.write_text(generate(load_spec(spec)), encoding="utf-8")
    check = [ruff_binary(), "check", "--isolated", f"--select={RUFF_RULES}", "--line-length=88", str(code)]
    result = subprocess.run(check, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_code_imports_only_keras(catalog_build):
    for path in sorted((catalog_build / "code").glob("*.py")):
        tree = ast.parse(path.read_text())
        imports = [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
        # The standard library's math (for pi and lgamma) when the formula needs it.
        assert imports in (
            ["import keras", "from keras import ops"],
            ["import math", "import keras", "from keras import ops"],
        ), path.name
        assert not any(isinstance(node, ast.Lambda) for node in ast.walk(tree)), path.name


def test_build_refuses_to_replace_a_folder_it_did_not_write(tmp_path):
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = run_cli("build", "--out", str(precious))
    assert result.returncode == 2
    assert "refusing to replace" in result.stderr
    assert (precious / "notes.txt").read_text() == "keep me"


def test_rebuild_replaces_stale_files(tmp_path):
    out = tmp_path / "out"
    assert run_cli("build", "--out", str(out)).returncode == 0
    (out / "stale.md").write_text("old")
    assert run_cli("build", "--out", str(out)).returncode == 0
    assert not (out / "stale.md").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary folders left behind"


def test_build_of_a_bad_catalog_leaves_previous_output_untouched(tmp_path):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "mse.yaml").write_text((SPECS / "mse.yaml").read_text())
    out = tmp_path / "out"
    assert run_cli("build", "--specs", str(specs), "--out", str(out)).returncode == 0
    before = _tree(out)
    (specs / "broken.yaml").write_text("name: broken\ntitle: B\ntask: regression\nsummary: s\nformula:\n  loss: nope\n")
    result = run_cli("build", "--specs", str(specs), "--out", str(out))
    assert result.returncode == 2
    assert "broken.yaml:6:9: formula.loss: undefined name `nope`" in result.stderr
    assert "Traceback" not in result.stderr
    assert _tree(out) == before


def test_plots_are_deterministic_svg_for_both_palettes(tmp_path):
    """The same files twice, and the same from two drawing processes (``lossgen build
    --plots`` uses one per CPU) as from this one."""
    from generator.site.plots import plot_files
    from generator.spec.loader import load_spec

    items = [load_spec(SPECS / "huber.yaml"), load_spec(SPECS / "binary_focal.yaml")]
    (first, _), (second, _) = plot_files(items), plot_files(items, workers=2)
    assert first == second
    assert sorted(first) == [
        f"plots/{name}-{panel}-{palette}.svg"
        for name in ("binary_focal", "huber")
        for panel in ("loss", "slope")
        for palette in ("dark", "light")
    ]
    for text in first.values():
        assert text.lstrip().startswith("<?xml") and "<svg" in text
        assert "<dc:date>" not in text


def test_every_catalog_spec_says_what_it_is_checked_against():
    from generator.spec.loader import load_spec

    for name in catalog_names():
        spec = load_spec(SPECS / f"{name}.yaml").spec
        assert spec.keras is not None or spec.checked_against, f"{name}: no keras twin and no checked_against"


def test_every_catalog_spec_says_when_not_to_use_it():
    """Each reference page tells readers when the loss is the wrong choice."""
    from generator.spec.loader import load_spec

    missing = [n for n in catalog_names() if not load_spec(SPECS / f"{n}.yaml").spec.avoid_when]
    assert not missing, f"no avoid_when: {', '.join(missing)}"


def test_every_formula_renders_with_katex():
    """Each reference page's LaTeX goes through the bundled KaTeX (the site's renderer) with
    errors raised, so a formula the browser would show as red source fails here."""
    import json
    import shutil

    from generator.codegen import lower
    from generator.formula import emit
    from generator.formula.vocabulary import PUBLIC_FUNCTIONS
    from generator.spec.loader import load_spec

    katex = ROOT / "node_modules" / "katex"
    node = shutil.which("node")
    if node is None or not katex.is_dir():
        pytest.fail("node and node_modules/katex are needed: `make assets` (make test runs it) installs KaTeX")
    formulas = {n: lower.latex(load_spec(SPECS / f"{n}.yaml")) for n in catalog_names()}
    formulas.update({f"function {name}": emit.latex(_sample_call(name)) for name in PUBLIC_FUNCTIONS})
    script = textwrap.dedent(
        """
        const katex = require(process.argv[1]);
        const formulas = JSON.parse(require("fs").readFileSync(0, "utf8"));
        const errors = {};
        for (const [name, tex] of Object.entries(formulas)) {
          try { katex.renderToString(tex, {displayMode: true, throwOnError: true}); }
          catch (e) { errors[name] = e.message; }
        }
        console.log(JSON.stringify(errors));
        """
    )
    result = subprocess.run(
        [node, "-e", script, str(katex)], input=json.dumps(formulas), capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == {}


def _sample_call(name: str):
    """A call of vocabulary function ``name`` on ``y_pred`` (and ``y_true``), with whole
    numbers where it takes them, for rendering its LaTeX."""
    from generator.formula.tree import Call, Num, Ref
    from generator.formula.vocabulary import FUNCTIONS

    fn = FUNCTIONS[name]
    args = [
        Num(1) if i in fn.constants else Ref("y_pred" if i % 2 == 0 else "y_true", "input")
        for i in range(len(fn.params))
    ]
    return Call(name, tuple(args), tuple(fn.keywords.items()))


def test_pages_list_every_peer_in_an_equivalent_calls_table(catalog_build):
    """A spec's peers become rows of its page's "Equivalent calls" table (library, call with
    its arguments, this loss with its parameters), and their notes follow the table; a page
    without peers has no such section."""
    from generator.spec.loader import load_spec
    from generator.spec.names import PEER_LIBRARIES

    with_peers = 0
    for name in catalog_names():
        spec = load_spec(SPECS / f"{name}.yaml").spec
        page = (catalog_build / f"{name}.md").read_text(encoding="utf-8")
        if not spec.peers:
            assert "## Equivalent calls" not in page, name
            continue
        with_peers += 1
        section = page.split("## Equivalent calls", 1)[1].split("\n## ", 1)[0]
        section = re.sub(r"\[(`[a-z0-9_]+`)\]\([a-z0-9_]+\.md\)", r"\1", section)  # the links to other losses
        rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
        assert len(rows) == len(spec.peers), name
        for row, peer in zip(rows, spec.peers, strict=True):
            cells = [cell.strip() for cell in row.strip("|").split(" | ")]
            assert cells[0] == PEER_LIBRARIES[peer.call.split(".")[0]]
            assert cells[1].startswith(f"`{peer.call}(") and all(f"{k}=" in cells[1] for k in peer.arguments)
            assert all(f"{k}={v!r}" in cells[2] for k, v in peer.params.items()), row
            if peer.note:
                assert " ".join(peer.note.split())[:60] in section
    assert with_peers >= 1


def test_pages_of_losses_without_parameters_do_not_promise_changed_parameters(catalog_build):
    from generator.spec.loader import load_spec

    for name in catalog_names():
        spec = load_spec(SPECS / f"{name}.yaml").spec
        page = (catalog_build / f"{name}.md").read_text(encoding="utf-8")
        varied = shapes.tuned(spec)  # the layout parameters are tested on their own
        assert ("every parameter changed" in page) == bool(varied) or spec.keras is None, name


def test_every_table_row_of_the_generated_pages_has_all_its_cells(catalog_build):
    """A `|` inside a cell (`|x|` in a summary or a parameter's doc) must be escaped, or
    Markdown cuts the row short."""
    import re

    for page in sorted(catalog_build.glob("*.md")):
        lines = page.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if re.fullmatch(r"\|(---\|)+", line):
                width = line.count("|")
                for row in lines[i + 1 :]:
                    if not row.startswith("|"):
                        break
                    assert row.replace("\\|", "").count("|") == width, f"{page.name}: {row}"
