"""Run in a fresh Python process by the checker, with ``KERAS_BACKEND`` set to another
backend: evaluate a generated module's function and subclass forms on the checker's
random batches and print the values as one JSON line.

Usage: ``python -m generator.check.probes.backend SPEC MODULE``.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def main(spec_path: str, module_path: str) -> None:
    import keras

    from generator.check import samples
    from generator.check.harness import forms_of, import_path
    from generator.spec.loader import load_spec

    item = load_spec(spec_path)
    forms = forms_of(import_path(module_path, f"lossgen_backend_{item.name}"), item)
    values = {}
    for label, params in samples.parameter_sets(item.spec).items():
        for seed in range(3):
            batch = samples.random_batch(item.spec, params, seed)
            for form in ("function", "subclass"):
                loss = getattr(forms, form)(params)
                value = keras.ops.convert_to_numpy(loss(batch.y_true, batch.y_pred))
                values[f"{label}/{seed}/{form}"] = np.asarray(value, dtype="float64").tolist()
    print(json.dumps({"backend": keras.backend.backend(), "values": values}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
