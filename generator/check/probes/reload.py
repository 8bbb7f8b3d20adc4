"""Run in a fresh Python process by the checker: load saved models and report.

Usage: ``python -m generator.check.probes.reload MANIFEST.json``; prints one JSON line, a list
of findings ``{"spec", "form", "ok", "detail"}``.

For the factory form it also proves that a reload is never silently wrong: loading
before the factory call, or after a call with other values, must fail with a message
naming the saved call; only the same call restores the model.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from generator.check.harness import import_path


def _evaluate(model, case) -> float:
    x, y = np.load(case["x"]), np.load(case["y"])
    return float(model.evaluate(x, y, batch_size=32, verbose=0))


def _fit_again(model, case) -> float:
    x, y = np.load(case["x"]), np.load(case["y"])
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    return float(history.history["loss"][-1])


def _restored(model, case) -> tuple[bool, str]:
    value = _evaluate(model, case)
    if not np.isclose(value, case["value"], rtol=1e-6, atol=1e-7):
        return False, f"evaluation changed after reload: {case['value']!r} -> {value!r}"
    after = _fit_again(model, case)
    if not np.isfinite(after):
        return False, f"training after reload gave a non-finite loss {after!r}"
    return True, f"same evaluation ({value:.6g}), training continues ({after:.6g})"


def _load_fails(keras, case, what: str, call: str) -> str | None:
    try:
        keras.saving.load_model(case["model"])
    except Exception as exc:  # noqa: BLE001 - any failure is what we want; its text is checked
        message = str(exc)
        if call not in message:
            return f"loading {what} failed, but the message does not name `{call}`: {message[:300]}"
        return None
    return f"loading {what} succeeded: the model would silently run with other parameter values"


def probe_case(keras, manifest: dict, case: dict) -> dict:
    form = case["form"]
    module = import_path(case["module"], f"lossgen_probe_{manifest['spec']}_{form}")
    finding = {"spec": manifest["spec"], "form": form}
    if form == "factory":
        factory = getattr(module, manifest["factory"])
        params = case["params"]
        call = case["call"]
        problem = _load_fails(keras, case, "before the factory call", call)
        if problem is None and case["defaults"] != params:
            factory(**case["defaults"])
            problem = _load_fails(keras, case, "after a call with other values", call)
        if problem:
            return {**finding, "ok": False, "detail": problem}
        factory(**params)
    model = keras.saving.load_model(case["model"], safe_mode=True)
    # Saved from an eager model (the checker's side need not trace); after the reload the
    # model evaluates and trains traced, as a user's would.
    model.run_eagerly = False
    if form == "class":
        config = model.loss.get_config()
        wrong = {k: config.get(k) for k, v in case["config"].items() if config.get(k) != v}
        if wrong:
            return {**finding, "ok": False, "detail": f"parameters not restored: {wrong}"}
    ok, detail = _restored(model, case)
    if ok and form == "factory":
        detail += "; loading without the same factory call fails and names it"
    if ok and form == "class":
        detail += "; parameters restored with safe_mode=True"
    return {**finding, "ok": ok, "detail": detail}


def main(path: str) -> None:
    import keras

    manifests = json.loads(open(path, encoding="utf-8").read())
    findings = []
    for manifest in manifests:
        for case in manifest["cases"]:
            try:
                findings.append(probe_case(keras, manifest, case))
            except Exception as exc:  # noqa: BLE001 - reported as a failed check
                findings.append(
                    {
                        "spec": manifest["spec"],
                        "form": case["form"],
                        "ok": False,
                        "detail": f"{type(exc).__name__}: {exc}"[:500],
                    }
                )
    print(json.dumps(findings))


if __name__ == "__main__":
    main(sys.argv[1])
