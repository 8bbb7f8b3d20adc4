"""lossgen: declarative loss specs turned into Keras code and documentation.

The pipeline runs one way, one subpackage per step:

``spec`` (YAML + pydantic + semantic checks; the program a spec computes) ->
``codegen`` (lower to render views, optimise, render with Jinja, format with ruff, write
atomically) -> ``site`` (pages, plots, ``lossgen build``); ``formula`` is the language all
of them use, ``check`` proves generated code (``lossgen check`` and the tests), and ``cli``
sits on top. Only ``check`` and ``site`` import NumPy, Keras, TensorFlow or matplotlib, and
nothing imports ``cli``: ``tests/test_imports.py`` enforces both.
"""

__version__ = "0.1.0"

PACKAGE = "lossgen"
"""The package name every generated object is registered under in Keras."""
