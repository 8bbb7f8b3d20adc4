"""Write and execute the site's notebooks.

`python tools/notebooks.py` (run by `make notebooks`) rebuilds both notebooks from the
cells below and executes them in place with nbclient, so the outputs (plots) that
mkdocs-jupyter shows are always those of the current code. The test suite executes
them again in a temporary copy so they cannot rot.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent.parent / "docs" / "notebooks"

RAINFALL = [
    (
        "markdown",
        """# Imbalanced regression: plain MSE against amplitude-weighted MSE

Rain is mostly light and rarely heavy. A network trained with mean squared error can score
well by predicting light rain everywhere, and the rare heavy events, the ones that matter,
come out far too low. `amplitude_weighted_mse` multiplies each squared error by
`exp(alpha * y_true)`, so errors on large targets cost more.

This notebook trains the same small network twice on synthetic rainfall-like data and
compares what each predicts for the rare large values. It uses the module from the
[loss's reference page](../reference/amplitude_weighted_mse.html)
(`amplitude_weighted_mse_class.py`), exactly as a reader would download it.""",
    ),
    (
        "code",
        """import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.join("..", "reference", "code"))  # the downloaded modules

import keras
import matplotlib.pyplot as plt
import numpy as np

from amplitude_weighted_mse_class import AmplitudeWeightedMse

keras.utils.set_random_seed(0)""",
    ),
    (
        "markdown",
        """## Data

Four input features; the target is a skewed, mostly small amount, scaled to [0, 1]. Only
about one sample in fifty is a heavy event above 0.5.""",
    ),
    (
        "code",
        """rng = np.random.default_rng(0)
n = 4000
x = rng.normal(size=(n, 4)).astype("float32")
signal = 0.8 * x[:, 0] + 0.6 * x[:, 1] - 0.4 * x[:, 2] + 0.2 * x[:, 0] * x[:, 3]
rain = np.exp(1.2 * signal + 0.3 * rng.normal(size=n))
y = np.clip(rain / np.quantile(rain, 0.995), 0, 1).astype("float32").reshape(-1, 1)
x_train, y_train, x_test, y_test = x[:3000], y[:3000], x[3000:], y[3000:]
print(f"share of heavy events (y > 0.5): {np.mean(y > 0.5):.3f}")

plt.hist(y_train[:, 0], bins=50)
plt.yscale("log")
plt.xlabel("target (scaled rain amount)")
plt.ylabel("samples (log scale)")
plt.title("Most targets are small")
plt.show()""",
    ),
    (
        "markdown",
        """## Two identical networks, two losses""",
    ),
    (
        "code",
        """def train(loss):
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(1, activation="softplus"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss)
    model.fit(x_train, y_train, epochs=40, batch_size=64, verbose=0)
    return model


plain = train("mean_squared_error")
weighted = train(AmplitudeWeightedMse(alpha=5.0))
pred_plain = plain.predict(x_test, verbose=0)[:, 0]
pred_weighted = weighted.predict(x_test, verbose=0)[:, 0]""",
    ),
    (
        "markdown",
        """## What happens to the rare large values

The left plot shows predictions against truth; the right one the mean error per range of
the target. With plain MSE the heavy events are predicted far too low; the weighted loss
gives up a little accuracy on light rain to get them much closer.""",
    ),
    (
        "code",
        """truth = y_test[:, 0]
bins = np.array([0.0, 0.1, 0.25, 0.5, 1.01])
centers = ["0-0.1", "0.1-0.25", "0.25-0.5", "0.5-1"]
which = np.digitize(truth, bins) - 1

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.scatter(truth, pred_plain, s=6, alpha=0.5, label="MSE")
left.scatter(truth, pred_weighted, s=6, alpha=0.5, label="amplitude-weighted MSE")
left.plot([0, 1], [0, 1], color="gray", linewidth=1)
left.set_xlabel("true value")
left.set_ylabel("prediction")
left.legend()
for name, pred in (("MSE", pred_plain), ("amplitude-weighted MSE", pred_weighted)):
    bias = [np.mean(pred[which == k] - truth[which == k]) for k in range(len(centers))]
    right.plot(centers, bias, marker="o", label=name)
right.axhline(0, color="gray", linewidth=1)
right.set_xlabel("range of the true value")
right.set_ylabel("mean error (prediction - truth)")
right.legend()
plt.tight_layout()
plt.show()

heavy = truth > 0.5
for name, pred in (("MSE", pred_plain), ("amplitude-weighted MSE", pred_weighted)):
    print(
        f"{name:>24}: mean error on heavy events {np.mean(pred[heavy] - truth[heavy]):+.3f}, "
        f"on light ones {np.mean(pred[~heavy] - truth[~heavy]):+.3f}"
    )""",
    ),
    (
        "markdown",
        """The weight grows exponentially, so scale targets to about [0, 1] before using it, and
choose `alpha` by validation: too large and the network chases the few heavy events at the
expense of everything else.""",
    ),
]

CLASSIFICATION = [
    (
        "markdown",
        """# Imbalanced classification: crossentropy against a misclassification table

Three classes, one of them rare, and one kind of mistake much worse than the others:
calling a rare class-2 sample "class 0". Plain crossentropy treats every mistake alike.
`misclassification_weighted_crossentropy` multiplies each sample's loss by
`weights[true class][predicted class]`, so the costly confusion is trained away first.

The module comes from the
[loss's reference page](../reference/misclassification_weighted_crossentropy.html).""",
    ),
    (
        "code",
        """import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.join("..", "reference", "code"))  # the downloaded modules

import keras
import matplotlib.pyplot as plt
import numpy as np

from misclassification_weighted_crossentropy_class import MisclassificationWeightedCrossentropy

keras.utils.set_random_seed(0)""",
    ),
    (
        "code",
        """rng = np.random.default_rng(0)
sizes = [2000, 1500, 150]  # class 2 is rare
centers = np.array([[0.0, 0.0], [2.2, 0.0], [0.9, 1.0]])
x = np.concatenate([rng.normal(c, 0.9, size=(k, 2)) for c, k in zip(centers, sizes)]).astype("float32")
labels = np.concatenate([np.full(k, i) for i, k in enumerate(sizes)])
order = rng.permutation(len(labels))
x, labels = x[order], labels[order]
y = np.eye(3, dtype="float32")[labels]
x_train, y_train, x_test, y_test = x[:2600], y[:2600], x[2600:], y[2600:]
print("samples per class:", np.bincount(labels))""",
    ),
    (
        "markdown",
        """The table: predicting class 0 for a true class 2 costs eight times as much; every other
mistake costs 1.5; correct predictions keep their usual loss.""",
    ),
    (
        "code",
        """weights = [
    [1.0, 1.5, 1.5],
    [1.5, 1.0, 1.5],
    [8.0, 1.5, 1.0],
]


def train(loss):
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss)
    model.fit(x_train, y_train, epochs=30, batch_size=64, verbose=0)
    return model


plain = train("categorical_crossentropy")
weighted = train(MisclassificationWeightedCrossentropy(weights=weights))""",
    ),
    (
        "code",
        """def confusion(model):
    predicted = np.argmax(model.predict(x_test, verbose=0), axis=-1)
    truth = np.argmax(y_test, axis=-1)
    table = np.zeros((3, 3), dtype=int)
    np.add.at(table, (truth, predicted), 1)
    return table


fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for axis, (name, model) in zip(axes, (("crossentropy", plain), ("misclassification-weighted", weighted))):
    table = confusion(model)
    axis.imshow(table, cmap="Blues")
    for i in range(3):
        for j in range(3):
            axis.text(j, i, table[i, j], ha="center", va="center")
    axis.set_xticks(range(3))
    axis.set_yticks(range(3))
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    axis.set_title(f"{name}: 2 -> 0 mistakes: {table[2, 0]}")
plt.tight_layout()
plt.show()""",
    ),
    (
        "markdown",
        """The weighted model makes far fewer of the costly class-2-as-class-0 mistakes, at the
price of some cheaper ones. The table changes how much each sample counts, not the
direction it pushes: its entries are picked with `argmax`, which has no gradient.""",
    ),
]


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        nbformat.v4.new_markdown_cell(text) if kind == "markdown" else nbformat.v4.new_code_cell(text)
        for kind, text in cells
    ]
    return notebook


def execute(notebook: nbformat.NotebookNode, folder: Path) -> None:
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()


NOTEBOOKS = {"imbalanced-regression.ipynb": RAINFALL, "imbalanced-classification.ipynb": CLASSIFICATION}


def main() -> None:
    for filename, cells in NOTEBOOKS.items():
        notebook = build(cells)
        execute(notebook, HERE)
        for cell in notebook.cells:
            cell.metadata.pop("execution", None)
            if cell.cell_type == "code":  # TensorFlow's start-up chatter is not content
                cell.outputs = [o for o in cell.outputs if o.get("name") != "stderr"]
        nbformat.write(notebook, HERE / filename)
        print(f"wrote {HERE / filename}", file=sys.stderr)


if __name__ == "__main__":
    main()
