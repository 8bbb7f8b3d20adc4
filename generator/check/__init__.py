"""``lossgen check`` and the test suite's harness: the inputs it samples (``samples``), the
float64 NumPy evaluator of a spec (``numeric``), the explanations of a failure
(``hazards``), importing generated modules and building models (``harness``), the checks
(``checks``) and their tolerances (``tolerances``), the report (``report``), the losses
of the peer libraries called in their own conventions (``peers``, for the peer tests and
the benchmark), and the probes that run in a fresh process (``probes/``). The only
package that imports NumPy, Keras and TensorFlow, besides ``site``'s plots."""
