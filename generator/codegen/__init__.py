"""From a loaded spec to formatted Python: the names generated code uses (``names``), the
render views (``views``, data only), lowering a spec to its view (``lower``), rendering
with the Jinja templates of ``templates/`` (``render``), formatting with ruff
(``formatting``), atomic writes (``write``), the one-spec pipeline (``pipeline``) and the
starter spec of ``lossgen new`` (``starter``). Pure Python: no NumPy, no Keras."""
