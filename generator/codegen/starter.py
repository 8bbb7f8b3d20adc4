"""`lossgen new NAME`: a commented starter spec that passes `lossgen check` as it is."""

from __future__ import annotations

from typing import get_args

from generator.codegen.render import environment
from generator.spec.schema import Formula, Parameter, PredictionKind, TargetKind, Task, Weighting
from generator.spec.semantics import SNAKE


def choices() -> dict[str, tuple[str, ...]]:
    """The values the starter's comments list, read from the schema so that they cannot
    drift from it: tasks, input kinds, parameter types, reductions and weighting rules."""
    rules = tuple(get_args(model.model_fields["rule"].annotation)[0] for model in get_args(get_args(Weighting)[0]))
    return {
        "tasks": get_args(Task),
        "target_kinds": get_args(TargetKind),
        "prediction_kinds": get_args(PredictionKind),
        "parameter_types": get_args(Parameter.model_fields["type"].annotation),
        "reductions": get_args(Formula.model_fields["reduce"].annotation),
        "rules": tuple(rule for rule in rules if rule != "none"),
    }


def starter_spec(name: str) -> str:
    if not SNAKE.match(name):
        raise ValueError(f"name `{name}` must be snake_case: lower-case letters, digits and single underscores")
    words = name.split("_")
    return (
        environment()
        .get_template("starter.yaml.jinja")
        .render(
            name=name,
            title=" ".join(words).capitalize(),
            class_name="".join(w.capitalize() for w in words),
            **choices(),
        )
    )
