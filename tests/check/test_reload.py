"""Save and reload: every spec, every form, with a fresh process doing the loading.

Models are compiled, fitted one step and saved here; one separate Python process then
loads them all (importing only the generated module), evaluates and trains again.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest import SPECS, catalog_names

from generator.check.fresh import run_probe, save_models
from generator.check.harness import quiet_tensorflow, write_modules
from generator.codegen.pipeline import generate
from generator.spec.loader import load_spec
from generator.spec.names import FORMS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reload")]


# Session scope, not module: under --dist loadgroup a worker interleaves other modules' tests
# with this group's, and each interleaving tore a module fixture down and built it again
# (the reload probe ran twice, 110 s each).
@pytest.fixture(scope="session")
def findings(tmp_path_factory):
    quiet_tensorflow()
    directory = tmp_path_factory.mktemp("reload")
    manifests = []
    for name in catalog_names():
        item = load_spec(SPECS / f"{name}.yaml")
        spec_dir = directory / name
        spec_dir.mkdir()
        manifests.append(save_models(item, write_modules(item, spec_dir), spec_dir))
    return {(f["spec"], f["form"]): f for f in run_probe(manifests, directory)}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", catalog_names())
def test_survives_save_and_reload_in_fresh_process(findings, name, form):
    finding = findings[(name, form)]
    assert finding["ok"], finding["detail"]


def test_factory_reload_is_never_silently_wrong(tmp_path):
    """Saved with margin=2.0: loading after make_contrastive(margin=1.0) must fail and name
    the saved call; after make_contrastive(margin=2.0) it must load with the saved values."""
    (tmp_path / "contrastive_factory.py").write_text(generate(load_spec(SPECS / "contrastive.yaml"), "factory"))
    save = textwrap.dedent(
        """
        import numpy as np, keras
        from contrastive_factory import make_contrastive
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="softplus")])
        model.compile(optimizer="sgd", loss=make_contrastive(margin=2.0))
        x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
        y = (np.arange(8) % 2).astype("float32").reshape(8, 1)
        model.fit(x, y, verbose=0)
        np.save("x.npy", x); np.save("y.npy", y)
        print(model.evaluate(x, y, verbose=0))
        model.save("m.keras")
        """
    )
    load = textwrap.dedent(
        """
        import numpy as np, keras
        from contrastive_factory import make_contrastive
        make_contrastive(margin=1.0)
        try:
            keras.saving.load_model("m.keras")
        except Exception as exc:
            print("FAILED:", exc)
        else:
            print("LOADED WITH OTHER VALUES")
        make_contrastive(margin=2.0)
        model = keras.saving.load_model("m.keras")
        print(model.evaluate(np.load("x.npy"), np.load("y.npy"), verbose=0))
        """
    )

    def python(code):
        result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
        return result.stdout.strip().splitlines()

    saved_value = float(python(save)[-1])
    failed, reloaded_value = python(load)[-2:]
    assert failed.startswith("FAILED:")
    assert "make_contrastive(margin=2.0)" in failed
    assert float(reloaded_value) == pytest.approx(saved_value, rel=1e-6)


def test_the_probe_fails_a_subclass_that_forgets_a_parameter_and_a_factory_that_hides_its_call(tmp_path):
    """The probe can fail: huber's generated modules, edited so that the subclass's
    get_config leaves `delta` out and the factory registers one name for every call. The
    subclass then reloads with the default delta, and a model saved with delta changed loads
    after a call with the defaults; the function form is untouched and still passes."""
    quiet_tensorflow()
    item = load_spec(SPECS / "huber.yaml")
    modules = write_modules(item, tmp_path)
    forget = modules["class"].read_text(encoding="utf-8")
    assert '"delta": self.delta,' in forget
    modules["class"].write_text(forget.replace('"delta": self.delta,', ""), encoding="utf-8")
    hide = modules["factory"].read_text(encoding="utf-8")
    assert 'registered_name = f"make_huber(delta={delta!r})"' in hide
    modules["factory"].write_text(hide.replace('f"make_huber(delta={delta!r})"', '"make_huber"'), encoding="utf-8")
    found = {f["form"]: f for f in run_probe([save_models(item, modules, tmp_path)], tmp_path)}
    assert found["function"]["ok"], found["function"]["detail"]
    assert not found["class"]["ok"] and found["class"]["detail"].startswith("parameters not restored: {'delta'")
    assert not found["factory"]["ok"]
    assert "after a call with other values succeeded" in found["factory"]["detail"]
