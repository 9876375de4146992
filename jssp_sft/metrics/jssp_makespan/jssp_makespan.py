# Copyright 2026 The jssp-sft authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""JSSP makespan metric: parses model-written job-shop schedules, verifies them and scores their makespans.

A thin adapter: the logic lives in ``jssp_sft.core.scoring`` so that rewards and training callbacks share it. ``evaluate``
copies this file into its cache before importing it, so it imports the package by name, one import per line.
"""

import re

import datasets
import evaluate

from jssp_sft.core.scoring import NotText, score_predictions


# evaluate accepts only strings for its string features: a value that is not one travels to `_compute` as this marker
# (prefix + type name), where a prediction becomes an unparseable answer and a reference a clear error.
_NOT_TEXT = "\x00jssp_makespan:not-text:"
# Arrow stores UTF-8, which a lone surrogate (e.g. from a bad decode) cannot be written in: it becomes U+FFFD, which
# every reader of the package treats alike (a character that is no digit, space or letter of the grammar).
_LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _as_text(value):
    if not isinstance(value, str):
        return f"{_NOT_TEXT}{type(value).__name__}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE_RE.sub("\ufffd", value)
    return value


def _marked(value):
    return NotText(value[len(_NOT_TEXT) :]) if isinstance(value, str) and value.startswith(_NOT_TEXT) else value


_DESCRIPTION = """\
Verifies job-shop schedules written in the Starjob text format ("Solution:" followed by operations
"J{job}-M{machine}: {start}+{duration} -> {end}" and "Maximum end completion time or Makespan: {n}") against the
problem they answer, and reports how many parse, how many are feasible, how many declare the right makespan, and how
far their makespans are from reference makespans.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): model outputs, each a Starjob solution (any variant; preamble text is fine). Never
        raises on them: anything that is not a readable solution (`None`, a number, garbage) counts as unparseable.
    references (`list` of `str`): the problem each prediction answers: a Starjob record's `input`, or a whole prompt
        containing it (Alpaca or chat text).
    reference_makespans (`list` of `int`/`float`/`None`, *optional*): a reference makespan per example (the solver's,
        or a benchmark's best known upper bound). Enables `mean_gap` and `optimal_rate`. A value that is not a finite
        positive number (a string, inf, nan, 0) is a `ValueError` naming its index.
    return_details (`bool`, *optional*, defaults to `False`): also return one entry per example with its report.
Returns:
    n (`int`): number of examples.
    parse_rate (`float`): fraction of predictions that could be read as a solution.
    feasible_rate (`float`): fraction of feasible schedules (every operation once, right machine and duration, end =
        start + duration, job order kept, no machine overlap).
    makespan_match_rate (`float`): fraction declaring a makespan equal to the computed one.
    valid_rate (`float`): fraction feasible AND declaring the right makespan (the Starjob paper's criterion).
    mean_makespan (`float` or `None`): mean makespan over feasible predictions.
    mean_gap (`float` or `None`): mean of (makespan - reference) / reference over feasible predictions with a reference.
    optimal_rate (`float` or `None`): fraction of examples with a reference whose prediction is feasible with makespan
        <= reference.
    violations (`dict`): number of violations of each kind over all predictions.
    details (`list` of `dict`, only with `return_details=True`): per example, the verifier's report and gap.
Examples:
    >>> import evaluate
    >>> import jssp_sft.metrics
    >>> metric = evaluate.load(jssp_sft.metrics.path("jssp_makespan"))
    >>> problem = "J0:\\nM0:3 M1:2 \\nJ1:\\nM1:4 M0:1 \\n"
    >>> answer = "Solution:\\nJ0-M0: 0+3 -> 3, J1-M1: 0+4 -> 4, J1-M0: 4+1 -> 5, J0-M1: 4+2 -> 6\\nMakespan: 6"
    >>> results = metric.compute(predictions=[answer], references=[problem], reference_makespans=[6])
    >>> results["feasible_rate"], results["mean_gap"], results["optimal_rate"]
    (1.0, 0.0, 1.0)
"""

_CITATION = """\
@article{abgaryan2025starjob,
  title   = {Starjob: Dataset for LLM-Driven Job Shop Scheduling},
  author  = {Abgaryan, Henrik and Cazenave, Tristan and Harutyunyan, Ararat},
  journal = {arXiv preprint arXiv:2503.01877},
  year    = {2025}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class JsspMakespan(evaluate.Metric):
    """Feasibility and makespan quality of job-shop schedules written as text."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
            reference_urls=["https://arxiv.org/abs/2503.01877", "https://huggingface.co/datasets/henri24/Starjob"],
        )

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add a batch of predictions and references (any values: see `_compute` for what becomes of non-strings)."""
        predictions = None if predictions is None else [_as_text(p) for p in predictions]
        references = None if references is None else [_as_text(r) for r in references]
        return super().add_batch(predictions=predictions, references=references, **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Add one prediction and its reference (any values: see `_compute` for what becomes of non-strings)."""
        return super().add(prediction=_as_text(prediction), reference=_as_text(reference), **kwargs)

    def _compute(self, predictions, references, reference_makespans=None, return_details=False):
        predictions = [_marked(p) for p in predictions]
        for i, reference in enumerate(references):
            if isinstance(_marked(reference), NotText):
                raise ValueError(f"references[{i}] must be the problem text, got {_marked(reference).type_name}")
        return score_predictions(predictions, references, reference_makespans, return_details)
