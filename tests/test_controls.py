"""Tests of the controls beside every learned-model figure: the random policy, prompt-blind orders, the best rule."""

import random

import pytest

from jssp_sft import Instance, verify
from jssp_sft.core.candidates import CandidateFormat
from jssp_sft.solvers.controls import (
    best_dispatching_rule,
    best_fixed_orders,
    first_listed_control,
    instance_seed,
    random_control,
    random_job_sequence,
    round_robin_sequence,
    schedule_from_job_sequence,
)
from jssp_sft.solvers.dispatching import dispatching_rule


# J0: M0 for 3, then M1 for 2.  J1: M1 for 4, then M0 for 1.
TWO_BY_TWO = Instance((((0, 3), (1, 2)), ((1, 4), (0, 1))), 2)
# Makespans by hand under the decoder's "insert" placement (earliest idle gap where the operation fits).
# (1, 1, 0, 0): J1 M1 [0,4], J1 M0 [4,5], J0 M0 fits the gap [0,4] -> [0,3], J0 M1 after M1's [0,4] -> [4,6]: 6.
# (0, 0, 1, 1): J0 M0 [0,3], J0 M1 [3,5], J1 M1 does not fit in [0,3] -> [5,9], J1 M0 [9,10]: 10.
HAND_INSERT = {
    (0, 0, 1, 1): 10,
    (0, 1, 0, 1): 6,
    (0, 1, 1, 0): 6,
    (1, 0, 0, 1): 6,
    (1, 0, 1, 0): 6,
    (1, 1, 0, 0): 6,
}


def test_job_sequences_are_placed_with_the_decoder_rule():
    for sequence, makespan in HAND_INSERT.items():
        schedule = schedule_from_job_sequence(TWO_BY_TWO, sequence)
        assert schedule.makespan == makespan
        assert verify(TWO_BY_TWO, schedule).feasible
    # "append" never fills a gap: J0's first operation waits for M0's [4,5] -> [5,8], then M1 [8,10].
    assert schedule_from_job_sequence(TWO_BY_TWO, (1, 1, 0, 0), "append").makespan == 10


def test_random_control_is_deterministic_and_draws_among_unfinished_jobs():
    first = random_control(TWO_BY_TWO, num_samples=8, seed=3)
    again = random_control(TWO_BY_TWO, num_samples=8, seed=3)
    assert first.makespans == again.makespans and first.schedule == again.schedule
    assert first.makespan == min(first.makespans)
    # Sample i does not depend on N: best-of-8 extends best-of-1.
    assert random_control(TWO_BY_TWO, num_samples=1, seed=3).makespans == first.makespans[:1]
    # (0, 0, 1, 1) is the only sequence at 10; uniform over unfinished jobs draws it with probability 1/2 * 1/2.
    many = random_control(TWO_BY_TWO, num_samples=4000, seed=0).makespans
    assert set(many) == {6, 10}
    assert abs(many.count(10) / len(many) - 0.25) < 0.03
    rng = random.Random(0)
    assert all(tuple(random_job_sequence(TWO_BY_TWO, rng)) in HAND_INSERT for _ in range(100))


def test_random_control_rejects_no_samples():
    with pytest.raises(ValueError, match="num_samples"):
        random_control(TWO_BY_TWO, num_samples=0)


def test_first_listed_control_takes_each_line_s_first_entry():
    by_start = first_listed_control(TWO_BY_TWO, CandidateFormat(order="start"))
    by_job = first_listed_control(TWO_BY_TWO, CandidateFormat(order="job"))
    # By job: always the lowest unfinished job of the top 4 (all of them here): (0, 0, 1, 1), the 10 of HAND_INSERT.
    assert by_job.makespan == HAND_INSERT[(0, 0, 1, 1)] == 10
    # By start: J0 and J1 both start at 0 with equal work left (5): J0; then J1 (M1 at 0) before J0 (M1 at 3).
    assert by_start.makespan == HAND_INSERT[(0, 1, 0, 1)] == 6
    assert verify(TWO_BY_TWO, by_start.schedule).feasible


def test_round_robin_and_best_fixed_order():
    assert round_robin_sequence(TWO_BY_TWO) == [0, 1, 0, 1]
    best = best_fixed_orders([TWO_BY_TWO], [6])
    order, gap = best[(2, 2)]
    assert gap == 0.0 and HAND_INSERT[order] == 6
    # Two instances of one size share one order; the worse instance decides against (0, 0, 1, 1).
    mirrored = Instance((((1, 4), (0, 1)), ((0, 3), (1, 2))), 2)
    order, gap = best_fixed_orders([TWO_BY_TWO, mirrored], [6, 6])[(2, 2)]
    assert gap == 0.0 and order not in {(0, 0, 1, 1), (1, 1, 0, 0)}


def test_best_dispatching_rule_is_the_minimum_over_rules_and_variants(example_instance):
    name, schedule = best_dispatching_rule(example_instance)
    rule, variant = name[: name.index(" (")], name[name.index("(") + 1 : -1]
    assert dispatching_rule(example_instance, rule, variant).makespan == schedule.makespan
    for other_variant in ("insertion", "semi_active", "non_delay"):
        for other_rule in ("SPT", "MWKR", "MOPNR", "FDD/MWKR"):
            assert dispatching_rule(example_instance, other_rule, other_variant).makespan >= schedule.makespan


def test_the_seed_rule_reads_the_instance_not_its_name():
    named = Instance(TWO_BY_TWO.jobs, 2, name="anything")
    assert instance_seed(3, named) == instance_seed(3, TWO_BY_TWO) != instance_seed(4, TWO_BY_TWO)
    other = Instance((((0, 3), (1, 2)), ((1, 5), (0, 1))), 2)
    assert instance_seed(3, other) != instance_seed(3, TWO_BY_TWO)
    assert random_control(named, 8, 3).makespans == random_control(TWO_BY_TWO, 8, 3).makespans


def test_improve_quickstart_and_evaluate_report_the_same_random_rows(tmp_path):
    """The same records, seed and N: improve's held-out controls, quickstart's control summary and evaluate's rows
    (its random control and a `--method random` run) give the same random-control gaps."""
    import json

    from conftest import serial_record

    from jssp_sft.cli.main import main as cli_main
    from jssp_sft.evaluation.rounds import held_out_controls
    from jssp_sft.quickstart import score_controls
    from jssp_sft.solve import dataset_problems

    rng = random.Random(5)
    records = [serial_record(rng, 4, 3, shuffle_jobs=True) for _ in range(5)]
    path = tmp_path / "held.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    n, seed = 4, 7

    quickstart = score_controls(records, n, seed)["random"]
    improve = held_out_controls(dataset_problems(str(path)), n, seed).summary()
    out = tmp_path / "eval"
    argv = ["evaluate", "--dataset", str(path), "--method", "random", "--num_samples", str(n), "--seed", str(seed)]
    argv += ["--control_seed", str(seed), "--output_dir", str(out), "--cpsat_baseline", "false"]
    assert cli_main([*argv, "--fixed_order_samples", "20"]) == 0
    group = json.loads((out / "report.json").read_text())["groups"]["held"]
    evaluate_rows = {
        k: group["baselines"][f"random control ({name})"]["all"]["mean_gap"]
        for k, name in [(1, "1 sample"), (n, f"best of {n}")]
    }
    method_row = group["methods"][f"random (best of {n})"]["sizes"]["all"]["mean_gap"]

    for count, improve_key in [(1, "random_1_gap"), (n, f"random_{n}_gap")]:
        assert quickstart[count] == pytest.approx(improve[improve_key])
        assert quickstart[count] == pytest.approx(evaluate_rows[count])
    assert method_row == pytest.approx(evaluate_rows[n])
    assert quickstart[n] < quickstart[1]  # best of 4 beats one sample: the rows are not all the same number
