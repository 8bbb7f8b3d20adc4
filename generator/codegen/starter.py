"""`lossgen new NAME`: a commented starter spec that passes `lossgen check` as it is."""

from __future__ import annotations

from generator.codegen.render import environment
from generator.spec.semantics import SNAKE


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
        )
    )
