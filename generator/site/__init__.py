"""The generated documentation: each loss's reference page, the catalog, vocabulary and
command-line pages (``pages``), the plots (``plots``, matplotlib and NumPy, imported only
when plots are asked for) and ``build``, which writes a whole reference tree. The CLI page
is made from the click commands the caller passes in: nothing here imports the CLI."""
