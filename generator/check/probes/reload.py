"""Run in a fresh Python process by the checker: load saved models and report.

Usage: ``python -m generator.check.probes.reload MANIFEST.json``; prints one JSON line, a list
of findings ``{"spec", "form", "ok", "detail"}``, one per spec and form.

Each spec's model has one output per form (``fresh.save_models``). The probe imports the
three generated modules, as a user's loading script would, and proves for the factory
form that a reload is never silently wrong: loading before the factory call, or after a
call with other values, must fail with a message naming the saved call; only the same
call restores the model. Then every output must evaluate to its saved value, the
subclass must have its parameters back, and the model must train on, traced.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from generator.check.harness import import_path
from generator.spec.names import FORMS


def _load_fails(keras, manifest, what: str, call: str) -> str | None:
    try:
        keras.saving.load_model(manifest["model"])
    except Exception as exc:  # noqa: BLE001 - any failure is what we want; its text is checked
        message = str(exc)
        if call not in message:
            return f"loading {what} failed, but the message does not name `{call}`: {message[:300]}"
        return None
    return f"loading {what} succeeded: the model would silently run with other parameter values"


def _factory_problem(keras, manifest: dict, factory) -> str | None:
    """Loading before the factory call, then after a call with other values, must fail
    and name the saved call; None when both do."""
    call = manifest["call"]
    problem = _load_fails(keras, manifest, "before the factory call", call)
    if problem is None and manifest["defaults"] != manifest["params"]["factory"]:
        factory(**manifest["defaults"])
        problem = _load_fails(keras, manifest, "after a call with other values", call)
    return problem


def probe_spec(keras, manifest: dict) -> dict[str, tuple[bool, str]]:
    """``{form: (ok, detail)}`` for one spec's saved model."""
    spec = manifest["spec"]
    modules = {form: import_path(manifest["modules"][form], f"lossgen_probe_{spec}_{form}") for form in FORMS}
    factory = getattr(modules["factory"], manifest["factory"])
    found: dict[str, tuple[bool, str]] = {}
    problem = _factory_problem(keras, manifest, factory)
    if problem:
        found["factory"] = (False, problem)
    factory(**manifest["params"]["factory"])
    model = keras.saving.load_model(manifest["model"], safe_mode=True)
    config = model.loss["class"].get_config()
    wrong = {k: config.get(k) for k, v in manifest["params"]["class"].items() if config.get(k) != v}
    if wrong:
        found["class"] = (False, f"parameters not restored: {wrong}")
    x, y = np.load(manifest["x"]), np.load(manifest["y"])
    targets = dict.fromkeys(FORMS, y)
    # The value is the same eagerly or traced; training after the reload runs traced.
    model.run_eagerly = True
    values = model.evaluate(x, targets, batch_size=32, verbose=0, return_dict=True)
    model.run_eagerly = False
    history = model.fit(x, targets, batch_size=16, epochs=1, verbose=0, shuffle=False)
    for form in FORMS:
        if form in found:
            continue
        saved, value = manifest["values"][form], float(values[f"{form}_loss"])
        after = float(history.history[f"{form}_loss"][-1])
        if not np.isclose(value, saved, rtol=1e-6, atol=1e-7):
            found[form] = (False, f"evaluation changed after reload: {saved!r} -> {value!r}")
        elif not np.isfinite(after):
            found[form] = (False, f"training after reload gave a non-finite loss {after!r}")
        else:
            detail = f"same evaluation ({value:.6g}), training continues ({after:.6g})"
            if form == "factory":
                detail += "; loading without the same factory call fails and names it"
            if form == "class":
                detail += "; parameters restored with safe_mode=True"
            found[form] = (True, detail)
    return found


def main(path: str) -> None:
    import keras

    manifests = json.loads(open(path, encoding="utf-8").read())
    findings = []
    for manifest in manifests:
        try:
            found = probe_spec(keras, manifest)
        except Exception as exc:  # noqa: BLE001 - reported as a failed check of every form
            found = dict.fromkeys(FORMS, (False, f"{type(exc).__name__}: {exc}"[:500]))
        for form in FORMS:
            ok, detail = found[form]
            findings.append({"spec": manifest["spec"], "form": form, "ok": ok, "detail": detail})
    print(json.dumps(findings))


if __name__ == "__main__":
    main(sys.argv[1])
