"""Evaluation: reports on solve results beside the controls, baselines and published rows; charts; diagnostics.

``arguments`` (``jssp-sft evaluate``'s options), ``methods`` (results files), ``summaries`` (a method's numbers, its
curve and its lift over the random control), ``baselines`` (the controls, dispatching rules and CP-SAT on the same
instances), ``report`` (the report and the ``evaluate`` entry point), ``markdown`` (``report.md``), ``plots``
(charts) and ``diagnostics`` (does a model read its instance: ``jssp-sft diagnose``).
"""
