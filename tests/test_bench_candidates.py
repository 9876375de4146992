"""bench/candidates.py: the features its linear reference reads are the candidate line's numbers, its replayed
decisions and scorer behave, and every section runs end to end at toy sizes."""

import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest

from jssp_sft.core.builder import ScheduleBuilder
from jssp_sft.core.candidates import CandidateFormat, candidates
from jssp_sft.core.codec import to_record
from jssp_sft.data.templates import PromptFormat
from jssp_sft.solvers.dispatching import dispatching_rule


BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def bench():
    """bench/candidates.py as a module (it imports ``common`` from its own folder, as when run as a script)."""
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_candidates", BENCH / "candidates.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


def test_features_are_the_numbers_of_the_line(bench):
    instance = bench.random_instance("5x4", seed=3, index=0)
    builder = ScheduleBuilder(instance)
    for job in (0, 2, 2, 4):
        builder.append(job, "insert")
    fmt = CandidateFormat("sdwnqfM", top_k=0, scale="raw", order="start")
    listed = fmt.listed(candidates(builder, "insert"))
    origin = min(c.start for c in listed)
    expected = [
        [c.start - origin, c.duration, c.job_work, c.job_operations, c.machine_work, max(0, c.machine_free - origin)]
        + [c.machine]
        for c in listed
    ]
    assert bench.line_features(fmt, listed, instance.lower_bound()) == expected
    top_two = CandidateFormat("sdw", top_k=2)
    scaled = bench.line_features(top_two, top_two.listed(candidates(builder, "insert")), 500)
    assert len(scaled) == 2 and all(0 <= value <= 999 for row in scaled for value in row)


def test_replayed_decisions_and_scorer(bench):
    fmt = PromptFormat(answer_format="candidates", candidate_fields="sdw", candidate_top_k=3, candidate_scale="raw")
    decisions = []
    for index in range(12):
        instance = bench.random_instance("4x4", seed=0, index=index)
        record = to_record(instance, dispatching_rule(instance, "MWKR", "non_delay"))
        found, unlisted, total = bench.replay_decisions(record, fmt)
        assert total == instance.num_operations and 0 <= unlisted <= total
        decisions += found
        # Decisions follow the labels the run trains on: with listed ties, each listed choice is the first listed of
        # the jobs starting together, which is the first right one.
        listed_ties = dataclasses.replace(fmt, candidate_ties="listed")
        replayed = [d for d in bench.replay_decisions(record, listed_ties)[0] if d.chosen >= 0]
        assert replayed and all(d.chosen == d.correct.index(True) for d in replayed)
    assert decisions and all(len(d.features) == len(d.correct) > 1 and any(d.correct) for d in decisions)

    # A scorer that only prefers the smallest start picks the earliest entry (raw scale: no rounding ties).
    earliest_first = bench.LinearScorer([-1.0, 0.0, 0.0], [0.0] * 3, [1.0] * 3)
    assert all(earliest_first.choose(d.features) == d.earliest for d in decisions)

    scorer, loss = bench.train_scorer(decisions, epochs=60, learning_rate=0.05, seed=0)
    assert loss == loss and len(scorer.weights) == 3
    chance = sum(sum(d.correct) / len(d.correct) for d in decisions) / len(decisions)
    assert bench.accuracy(decisions, lambda d: scorer.choose(d.features)) > chance
    instance = bench.random_instance("6x6", seed=1, index=0)
    assert bench.scorer_makespan(instance, scorer, fmt.candidate_format, "insert") >= instance.lower_bound()


def test_every_section_runs(bench, tmp_path, capsys):
    from jssp_sft.data.templates import PromptFormat
    from jssp_sft.modeling.tiny import TinyModelArguments, build_tiny

    run = tmp_path / "run"  # an untrained model saved as a candidates-format run
    build_tiny(TinyModelArguments(output_dir=str(run), vocab_size=400, tokenizer_corpus_size=40, hidden_size=32,
                                  intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                                  num_key_value_heads=1, sliding_window=64))  # fmt: skip
    PromptFormat(answer_format="candidates").save_pretrained(run)
    argv = [
        "--sections", "cost,decoding,imitation,model", "--run", str(run), "--best_of", "2",
        "--accuracy_records", "2",
        "--cost_sizes", "3x3", "--cost_instances", "1", "--target_ratio", "100",
        "--decode_sizes", "3x3", "--decode_repeats", "1", "--hidden_size", "32",
        "--train_instances", "8", "--held_out_instances", "4", "--test_sizes", "3x3", "--test_instances", "2",
        "--benchmark", "ft06", "--deterministic_time", "1", "--num_proc", "1", "--epochs", "20",
        "--work_dir", str(tmp_path),
    ]  # fmt: skip
    assert bench.main(argv) == 0
    out = capsys.readouterr().out
    for heading in ("## 1. Token cost", "## 2. Decoding time", "## 3. Feature imitation", "## 4. The run"):
        assert heading in out
    assert "choices that match CP-SAT's label on 2 held-out 4x4 records: model 0." in out
    assert "linear scorer (section 3), greedy" in out and "random (top-4 candidates), best of 2" in out
    assert "target (<= 100x at every size) met" in out and "ft06" in out
