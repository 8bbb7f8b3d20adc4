"""What a spec is and whether one is valid: the pydantic schema (``schema``), YAML loading
with file, line and column for every message (``loader``, ``errors``), the semantic checks
that run after the schema (``semantics``) and the input shapes a spec's kinds imply
(``shapes``). Pure Python: no NumPy, no Keras."""
