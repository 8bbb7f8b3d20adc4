"""The spec guide (docs/guides/spec.md, written by hand) names every top-level field of a
spec, every reserved name and the limits the loader applies. No Keras is imported here."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from generator.formula.tree import MAX_DEPTH, MAX_LENGTH
from generator.formula.vocabulary import INPUTS, RESERVED
from generator.spec.loader import MAX_NESTING, MAX_VALUES
from generator.spec.schema import LossSpec

GUIDE = (ROOT / "docs" / "guides" / "spec.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    match = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", GUIDE, re.M | re.S)
    assert match, f"no section `## {title}` in the spec guide"
    return match.group(1)


@pytest.mark.parametrize("field", list(LossSpec.model_fields))
def test_every_top_level_field_has_a_row(field):
    assert f"| `{field}` |" in _section("The fields")


@pytest.mark.parametrize("name", sorted(RESERVED | set(INPUTS)))
def test_every_reserved_name_is_listed(name):
    assert f"`{name}`" in _section("Reserved names")


def test_the_generated_names_are_listed():
    section = _section("Reserved names")
    for name in ("`<name>`", "`make_<name>`", "`<name>_loss`", "`pack_<name>`", "`class_name`"):
        assert name in section


def test_the_limits_are_the_loaders():
    limits = _section("Limits")
    title = next(m.max_length for m in LossSpec.model_fields["title"].metadata if hasattr(m, "max_length"))
    assert f"at most {title} characters" in limits
    assert f"at most {MAX_LENGTH} characters" in limits
    assert f"at most {MAX_DEPTH} levels" in limits
    assert f"at most {MAX_VALUES}," in limits
    assert f"at most {MAX_NESTING} levels" in limits


def test_every_peer_input_convention_is_named():
    from typing import get_args

    from generator.spec.names import PEER_INPUTS_TEXT
    from generator.spec.schema import PeerInput

    row = next(line for line in _section("The fields").splitlines() if line.startswith("| `peers` |"))
    for convention in get_args(PeerInput):
        assert f"`{convention}`" in row, convention
    assert set(PEER_INPUTS_TEXT) == set(get_args(PeerInput)), "every convention needs its page wording"
