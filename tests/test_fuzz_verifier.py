"""Property tests: the codec and verifier against a deliberately simple reference reader and checker
(tests/fuzz_jssp.py), and the ``evaluate`` metric against ``verify``, on generated instances and solutions mutated
by every violation kind, separators, whitespace, preambles, trailing text, huge and negative numbers and unicode.

``make test`` runs a few hundred examples per property; ``-m slow`` runs many thousands (bench/fuzz.py prints the
counts of a seeded run).
"""

import random

import evaluate
import numpy as np
import pytest
from fuzz_jssp import Unreadable, check, fuzz_case, mutate_instance_text, read_instance, read_solution
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jssp_sft.metrics
from jssp_sft import Instance, parse_instance, verify
from jssp_sft.core.codec import scan_solution
from jssp_sft.core.verifier import _find_violations, _passes_fast_checks


FAST = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _instance(case) -> Instance:
    return Instance(tuple(tuple(job) for job in case.jobs), case.num_machines)


def assert_verify_agrees(case) -> None:
    report = verify(_instance(case), case.solution)
    expected = check(case.jobs, case.num_machines, case.solution)
    assert report.parsed == expected.parsed, (case.kind, case.solution, report.violations[:1])
    if expected.parsed:
        got = (report.feasible, report.makespan, report.declared_makespan)
        assert got == (expected.feasible, expected.makespan, expected.declared), (case.kind, case.solution, report)
        entries, _ = read_solution(case.solution)
        assert scan_solution(case.solution).entries.tolist() == [list(e) for e in entries]


def assert_instance_reader_agrees(text: str) -> None:
    try:
        expected = read_instance(text)
    except Unreadable:
        with pytest.raises(ValueError):
            parse_instance(text)
        return
    instance = parse_instance(text)
    assert (instance.jobs, instance.num_machines) == (tuple(tuple(job) for job in expected[0]), expected[1]), text


def assert_fast_pass_is_sound(case) -> None:
    """The verifier's vectorized pass accepts only what its descriptive pass finds nothing wrong with."""
    try:
        entries = scan_solution(case.solution).entries
    except ValueError:
        return
    instance = _instance(case)
    if len(entries) and _passes_fast_checks(instance, entries):
        assert _find_violations(instance, entries) == [], case.solution


@given(st.randoms(use_true_random=False))
@FAST
def test_verify_agrees_with_the_reference_checker(rng):
    assert_verify_agrees(fuzz_case(rng))


@given(st.randoms(use_true_random=False), st.booleans())
@FAST
def test_instance_reader_agrees_with_the_reference_reader(rng, mutate):
    text = fuzz_case(rng).instance_text
    assert_instance_reader_agrees(mutate_instance_text(text, rng) if mutate else text)


@given(st.randoms(use_true_random=False))
@FAST
def test_fast_verifier_pass_never_accepts_an_infeasible_schedule(rng):
    assert_fast_pass_is_sound(fuzz_case(rng, mutate_probability=0.5))


@pytest.fixture(scope="module")
def metric():
    return evaluate.load(jssp_sft.metrics.path("jssp_makespan"))


def test_metric_agrees_with_verify_on_fuzzed_batches(metric):
    rng = random.Random(16)
    for _ in range(6):
        cases = [fuzz_case(rng) for _ in range(40)]
        predictions = [c.solution for c in cases] + [None, 17, b"bytes", ["a list"]]
        references = [c.instance_text for c in cases] + [cases[0].instance_text] * 4
        result = metric.compute(predictions=predictions, references=references, return_details=True)
        for case, detail in zip(cases, result["details"]):
            report = verify(parse_instance(case.instance_text), case.solution)
            got = (detail["parsed"], detail["feasible"], detail["makespan"], detail["declared_makespan"])
            assert got == (report.parsed, report.feasible, report.makespan, report.declared_makespan)
        assert [d["parsed"] for d in result["details"][-4:]] == [False] * 4
        assert result["n"] == len(predictions)


@pytest.mark.slow
@given(st.randoms(use_true_random=False))
@SLOW
def test_verify_agrees_with_the_reference_checker_many(rng):
    assert_verify_agrees(fuzz_case(rng))


@pytest.mark.slow
@given(st.randoms(use_true_random=False), st.booleans())
@SLOW
def test_instance_reader_agrees_with_the_reference_reader_many(rng, mutate):
    text = fuzz_case(rng).instance_text
    assert_instance_reader_agrees(mutate_instance_text(text, rng) if mutate else text)


@pytest.mark.slow
@given(st.randoms(use_true_random=False))
@SLOW
def test_fast_verifier_pass_never_accepts_an_infeasible_schedule_many(rng):
    assert_fast_pass_is_sound(fuzz_case(rng, mutate_probability=0.5))


@pytest.mark.slow
def test_metric_agrees_with_verify_many(metric):
    rng = random.Random(1616)
    for _ in range(60):
        cases = [fuzz_case(rng) for _ in range(100)]
        result = metric.compute(
            predictions=[c.solution for c in cases], references=[c.instance_text for c in cases], return_details=True
        )
        for case, detail in zip(cases, result["details"]):
            expected = check(case.jobs, case.num_machines, case.solution)
            assert (detail["parsed"], detail["feasible"]) == (expected.parsed, expected.feasible), case.solution
            if expected.parsed:
                assert detail["makespan"] == expected.makespan


def test_reference_checker_is_not_vacuous():
    """The reference must tell feasible from infeasible and readable from unreadable on known texts."""
    jobs, m = [[(0, 3), (1, 2)], [(1, 4), (0, 1)]], 2
    good = "Solution:\nJ0-M0: 0+3 -> 3, J1-M1: 0+4 -> 4, J1-M0: 4+1 -> 5, J0-M1: 4+2 -> 6\nMakespan: 6"
    assert check(jobs, m, good) == check(jobs, m, good.replace(", ", "\n\n  "))
    assert check(jobs, m, good).feasible and check(jobs, m, good).declared == 6
    assert not check(jobs, m, good.replace("4+1 -> 5", "3+1 -> 4")).feasible
    assert not check(jobs, m, "no schedule here").parsed
    assert not check(jobs, m, good.replace("Makespan: 6", "Makespan: " + "6" * 16)).parsed
    assert np.array_equal(scan_solution(good).entries, np.array(read_solution(good)[0]))
