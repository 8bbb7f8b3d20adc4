"""Scripts run in a fresh Python process by the checker (``python -m generator.check.probes.NAME``):
another Keras backend (``backend``), MirroredStrategy on two CPUs (``distribution``), and
loading saved models (``reload``)."""
