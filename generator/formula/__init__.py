"""The formula language: the expression tree and its parser (``tree``), the vocabulary of
functions with their ``keras.ops`` and LaTeX spellings (``vocabulary``), the weighting
rules expanded into one program (``program``), the optimiser (``optimize``) and the
printers to ``keras.ops`` code and LaTeX (``emit``). Pure Python: no NumPy, no Keras."""
