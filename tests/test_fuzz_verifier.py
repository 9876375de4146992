"""Property tests: the codec and verifier against a deliberately simple reference reader and checker
(tests/fuzz_jssp.py), and the ``evaluate`` metric against ``verify``, on generated instances and solutions mutated by
every violation kind, separators, whitespace, preambles, trailing text, junk lines, junction text, digits and spaces
of other scripts, huge and negative numbers, and candidate lines (well-formed and not).

The text rule's guarantee (issue 20): inserting any line or junction text at any point of an answer never turns an
infeasible or incomplete answer feasible, and inserting one into an instance never changes the instance (it reads
the same or not at all). Candidate lines never change a verdict; a malformed one makes the answer unreadable.

``make test`` runs a few hundred examples per property; ``-m slow`` runs many thousands (bench/fuzz.py prints the
counts of a seeded run).
"""

import random

import evaluate
import numpy as np
import pytest
from fuzz_jssp import (
    BAD_CANDIDATE_LINES,
    JUNCTION_TEXTS,
    ROW_MUTATIONS,
    Unreadable,
    candidate_line,
    check,
    fuzz_case,
    insert_junction,
    insert_line,
    inserted_line,
    instance_text,
    line_boundaries,
    mutate_instance_text,
    random_jobs,
    read_instance,
    read_solution,
)
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


def assert_verify_agrees(case, text: str | None = None) -> None:
    text = case.solution if text is None else text
    report = verify(_instance(case), text)
    expected = check(case.jobs, case.num_machines, text)
    assert report.parsed == expected.parsed, (case.kind, text, report.violations[:1])
    if expected.parsed:
        got = (report.feasible, report.makespan, report.declared_makespan)
        assert got == (expected.feasible, expected.makespan, expected.declared), (case.kind, text, report)
        entries, _ = read_solution(text)
        assert scan_solution(text).entries.tolist() == [list(e) for e in entries]


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


def assert_insertion_keeps_infeasible_answers_infeasible(rng: random.Random) -> None:
    """A line (junk, a job header, a makespan line, a candidate line) or junction text inserted into an answer: the
    verdict agrees with the reference, and an answer that read as infeasible or incomplete stays not feasible."""
    case = fuzz_case(rng, mutate_probability=0.8, kinds=ROW_MUTATIONS)
    before = verify(_instance(case), case.solution)
    if rng.random() < 0.5:
        text = insert_line(case.solution, inserted_line(rng), rng.choice(line_boundaries(case.solution)))
    else:
        text = insert_junction(case.solution, rng.choice(JUNCTION_TEXTS), rng)
    assert_verify_agrees(case, text)
    if before.parsed and not before.feasible:
        assert not verify(_instance(case), text).feasible, (case.solution, text)


def assert_insertion_never_changes_an_instance(rng: random.Random) -> None:
    """A line or junction text inserted into an instance text: the same instance, or none at all."""
    jobs, num_machines = random_jobs(rng)
    text = instance_text(jobs, num_machines, rng)
    if rng.random() < 0.5:
        mutated = insert_line(text, inserted_line(rng), rng.choice(line_boundaries(text)))
    else:
        mutated = insert_junction(text, rng.choice(JUNCTION_TEXTS), rng)
    assert_instance_reader_agrees(mutated)
    try:
        instance = parse_instance(mutated)
    except ValueError:
        return
    assert instance.jobs == tuple(map(tuple, jobs)) and instance.num_machines == num_machines, (text, mutated)


def assert_candidate_lines_keep_the_verdict(rng: random.Random) -> None:
    case = fuzz_case(rng, kinds=ROW_MUTATIONS)
    instance = _instance(case)
    text = case.solution
    for _ in range(rng.randint(1, 5)):
        text = insert_line(text, candidate_line(rng), rng.choice(line_boundaries(text)))
    plain, with_lines = verify(instance, case.solution), verify(instance, text)
    assert (plain.parsed, plain.feasible, plain.makespan, plain.declared_makespan, plain.counts()) == (
        with_lines.parsed,
        with_lines.feasible,
        with_lines.makespan,
        with_lines.declared_makespan,
        with_lines.counts(),
    ), (case.solution, text)
    assert_verify_agrees(case, text)
    bad = insert_line(text, rng.choice(BAD_CANDIDATE_LINES), rng.choice(line_boundaries(text)))
    report = verify(instance, bad)
    assert not report.parsed and "Next:" in report.violations[0].message, bad


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


@given(st.randoms(use_true_random=False))
@FAST
def test_inserting_a_line_or_junction_text_never_turns_an_answer_feasible(rng):
    assert_insertion_keeps_infeasible_answers_infeasible(rng)


@given(st.randoms(use_true_random=False))
@FAST
def test_inserting_a_line_or_junction_text_never_changes_an_instance(rng):
    assert_insertion_never_changes_an_instance(rng)


@given(st.randoms(use_true_random=False))
@FAST
def test_candidate_lines_never_change_a_verdict_and_malformed_ones_are_unreadable(rng):
    assert_candidate_lines_keep_the_verdict(rng)


@pytest.fixture(scope="module")
def metric():
    return evaluate.load(jssp_sft.metrics.path("jssp_makespan"))


def test_metric_agrees_with_verify_on_fuzzed_batches(metric):
    rng = random.Random(16)
    for _ in range(6):
        cases = [fuzz_case(rng) for _ in range(40)]
        with_candidates = [insert_line(c.solution, candidate_line(rng), 0) for c in cases[:10]]
        predictions = [c.solution for c in cases] + with_candidates + [None, 17, b"bytes", ["a list"]]
        references = [c.instance_text for c in cases] + [c.instance_text for c in cases[:10]]
        references += [cases[0].instance_text] * 4
        result = metric.compute(predictions=predictions, references=references, return_details=True)
        for prediction, reference, detail in zip(predictions, references, result["details"]):
            if not isinstance(prediction, str):
                continue
            report = verify(parse_instance(reference), prediction)
            got = (detail["parsed"], detail["feasible"], detail["makespan"], detail["declared_makespan"])
            assert got == (report.parsed, report.feasible, report.makespan, report.declared_makespan)
        for plain, detail in zip(result["details"][:10], result["details"][40:50]):  # with a candidate line first
            assert (plain["parsed"], plain["feasible"], plain["makespan"]) == (
                detail["parsed"],
                detail["feasible"],
                detail["makespan"],
            )
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
@given(st.randoms(use_true_random=False))
@SLOW
def test_insertions_many(rng):
    assert_insertion_keeps_infeasible_answers_infeasible(rng)
    assert_insertion_never_changes_an_instance(rng)
    assert_candidate_lines_keep_the_verdict(rng)


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
    assert not check(jobs, m, good.replace("4+2 -> 6", "4+2 -> 6\u0660")).parsed  # never cut a number
    assert not check(jobs, m, good.replace("\nMakespan", " J5-M9: 1+1 -> 2\nMakespan")).parsed
    assert check(jobs, m, good.replace("\nMakespan", "\nNext: s0 J1 | s3 J0\nMakespan")) == check(jobs, m, good)
    assert not check(jobs, m, good.replace("\nMakespan", "\nNext: J1-M0\nMakespan")).parsed
    assert np.array_equal(scan_solution(good).entries, np.array(read_solution(good)[0]))
    text = "J0:\nM0:3 M1:2\n# job 1 follows\nJ1:\nM1:4 M0:1\n"
    with pytest.raises(Unreadable):
        read_instance(text)
    assert read_instance(text.replace("# job 1 follows\n", "")) == (jobs, 2)
