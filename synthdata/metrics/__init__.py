"""Scores of a synthetic table against the real one: fidelity, privacy, bias.

The metrics are in ``fidelity``, ``privacy`` (which runs the re-identification ``attacks``) and
``bias``. What they share lives in two private modules: ``_base`` (``Result``, detail rows,
``run_metrics``, the runner of a report section) and ``_encoding`` (column kinds,
``scored_columns``, the sdmetrics inputs, ``as_number``, the classifiers' ``features`` and model,
``MixedEncoder``, ``subsample``).
"""
