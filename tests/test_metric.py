"""The `jssp_makespan` evaluate metric: loads offline from a checkout and from the installed package, agrees with the
core scoring function, never raises on predictions, raises on malformed references."""

import random
from pathlib import Path

import evaluate
import pytest
from conftest import EXAMPLE_INPUT, EXAMPLE_OUTPUT
from hypothesis import given, settings
from hypothesis import strategies as st
from jssp_testing import random_feasible_schedule, random_instance

import jssp_sft.metrics
from jssp_sft import format_instance, format_solution
from jssp_sft.core.scoring import score_predictions


REPO = Path(__file__).resolve().parents[1]
PROBLEM = "J0:\nM0:3 M1:2 \nJ1:\nM1:4 M0:1 \n"
GOOD = "Solution:\nJ0-M0: 0+3 -> 3, J1-M1: 0+4 -> 4, J1-M0: 4+1 -> 5, J0-M1: 4+2 -> 6\nMakespan: 6"
BAD = "Solution:\nJ0-M0: 0+3 -> 3, J1-M1: 0+4 -> 4, J1-M0: 3+1 -> 4, J0-M1: 4+2 -> 6\nMakespan: 6"


@pytest.fixture(scope="module")
def metric():
    return evaluate.load(jssp_sft.metrics.path("jssp_makespan"))


def test_loads_from_a_checkout_path_and_from_the_package(monkeypatch, metric):
    monkeypatch.chdir(REPO)
    from_checkout = evaluate.load("jssp_sft/metrics/jssp_makespan")
    args = dict(predictions=[GOOD, BAD], references=[PROBLEM, PROBLEM], reference_makespans=[6, 5])
    assert from_checkout.compute(**args) == metric.compute(**args)
    assert jssp_sft.metrics.available() == ["jssp_makespan"]
    with pytest.raises(ValueError, match="no metric module"):
        jssp_sft.metrics.path("bleu")


def test_values_of_a_small_batch(metric):
    result = metric.compute(
        predictions=[GOOD, BAD, "I cannot", GOOD.replace("Makespan: 6", "Makespan: 7")],
        references=[PROBLEM] * 4,
        reference_makespans=[6, 6, 6, 5],
    )
    assert result == {
        "n": 4,
        "parse_rate": 0.75,
        "feasible_rate": 0.5,
        "makespan_match_rate": 0.5,
        "valid_rate": 0.25,
        "mean_makespan": 6.0,
        "mean_gap": pytest.approx((0.0 + 0.2) / 2),
        "optimal_rate": 0.25,
        "violations": {"makespan_mismatch": 1, "precedence": 1, "unparseable": 1},
    }


def test_details_and_whole_prompts_as_references(metric):
    prompt = "Some instruction\n\n" + EXAMPLE_INPUT + "\n### Response:\n"
    result = metric.compute(predictions=[EXAMPLE_OUTPUT], references=[prompt], return_details=True)
    (detail,) = result["details"]
    assert detail["feasible"] and detail["makespan"] == 29 and detail["gap"] is None
    assert result["mean_gap"] is None and result["optimal_rate"] is None


def test_metric_equals_the_core_function_on_random_outputs(metric):
    rng = random.Random(0)
    predictions, references, refs = [], [], []
    for _ in range(40):
        instance = random_instance(rng)
        schedule = random_feasible_schedule(instance, rng, slack=rng.choice([0, 5]))
        text = format_solution(schedule)
        if rng.random() < 0.5:
            cut = rng.randrange(len(text))
            text = text[:cut] + rng.choice(["", "9", ", J0-M0: 1+1 -> 2"]) + text[cut + 1 :]
        predictions.append(text)
        references.append(format_instance(instance))
        refs.append(rng.choice([None, schedule.makespan, schedule.makespan + 7]))
    expected = score_predictions(predictions, references, refs, return_details=True)
    assert (
        metric.compute(predictions=predictions, references=references, reference_makespans=refs, return_details=True)
        == expected
    )
    assert 0 < expected["feasible_rate"] < 1


def test_malformed_reference_raises_naming_its_index(metric):
    with pytest.raises(ValueError, match=r"references\[1\] is not a JSSP problem"):
        metric.compute(predictions=[GOOD, GOOD], references=[PROBLEM, "what?"])
    with pytest.raises(ValueError, match=r"reference_makespans\[0\] must be positive"):
        score_predictions([GOOD], [PROBLEM], [0])
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        score_predictions([GOOD, GOOD], [PROBLEM])


@given(
    st.lists(
        st.one_of(st.text(max_size=200), st.none(), st.sampled_from([GOOD, BAD, GOOD[:-5], GOOD * 2])),
        min_size=1,
        max_size=8,
    )
)
@settings(max_examples=150, deadline=None)
def test_core_scoring_never_raises_on_predictions(predictions):
    result = score_predictions(predictions, [PROBLEM] * len(predictions), [6] * len(predictions))
    assert result["n"] == len(predictions) and 0 <= result["feasible_rate"] <= 1


@given(st.lists(st.text(max_size=300), min_size=1, max_size=5))
@settings(max_examples=15, deadline=None)
def test_metric_never_raises_on_predictions(metric, predictions):
    result = metric.compute(predictions=predictions, references=[PROBLEM] * len(predictions))
    assert result["n"] == len(predictions)
