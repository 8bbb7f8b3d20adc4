"""lossgen: declarative loss specs turned into Keras code and documentation.

The pipeline runs one way, one module per step:

``loader`` (YAML + pydantic + semantic checks) -> ``lower`` (render model) ->
``render`` (Jinja, pure) -> ``formatting`` (ruff) -> ``write`` (atomic).

Nothing in this package imports TensorFlow or Keras except ``checker``.
"""

__version__ = "0.1.0"

PACKAGE = "lossgen"
"""The package name every generated object is registered under in Keras."""
