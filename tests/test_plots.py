"""Charts: Gantt charts of feasible and infeasible schedules (jssp-sft gantt, three sources) and the gap bar chart."""

import json

import pytest

from jssp_sft import format_instance, parse_instance, to_record
from jssp_sft.cli.main import main as cli_main
from jssp_sft.evaluation.plots import gantt_chart, gantt_figure, gap_bar_chart, job_colors
from jssp_sft.solvers.cpsat import solve_cpsat


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
INPUT = "J0:\nM2:7 M0:12 M1:5 \nJ1:\nM0:9 M2:4 M1:11 \n"
OUTPUT = (
    "Solution:\n"
    "J0-M2: 0+7 -> 7, J1-M0: 0+9 -> 9, J1-M2: 9+4 -> 13, J0-M0: 9+12 -> 21, J1-M1: 13+11 -> 24, J0-M1: 24+5 -> 29\n"
    "Maximum end completion time or Makespan: 29"
)


def test_gantt_of_a_schedule_object_and_of_text(tmp_path):
    instance = parse_instance(INPUT)
    schedule = solve_cpsat(instance).schedule
    report = gantt_chart(instance, schedule, tmp_path / "a.png", bound=29, title="example")
    assert report.feasible and report.makespan == schedule.makespan
    assert (tmp_path / "a.png").read_bytes().startswith(PNG_MAGIC)
    report = gantt_chart(instance, OUTPUT, tmp_path / "b.png")
    assert report.feasible and report.makespan == 29


def test_an_infeasible_answer_is_drawn_with_its_violations(tmp_path):
    instance = parse_instance(INPUT)
    overlapping = OUTPUT.replace("J1-M0: 0+9 -> 9", "J1-M0: 10+9 -> 19")  # J1 runs on M0 while J0 does
    report = gantt_chart(instance, overlapping, tmp_path / "bad.png")
    assert not report.feasible and {"machine_overlap", "precedence"} & set(report.counts())
    assert (tmp_path / "bad.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="nothing to draw"):
        gantt_chart(instance, "I do not know", tmp_path / "none.png")


def test_gantt_command_from_files_record_and_results(tmp_path, capsys):
    (tmp_path / "input.txt").write_text("Optimize schedule for 2 Jobs ...\n\n" + INPUT)
    (tmp_path / "output.txt").write_text("Sure! " + OUTPUT)
    assert (
        cli_main(
            [
                "gantt",
                "--instance",
                str(tmp_path / "input.txt"),
                "--solution",
                str(tmp_path / "output.txt"),
                "--output",
                str(tmp_path / "files.png"),
            ]
        )
        == 0
    )
    assert "makespan 29, feasible" in capsys.readouterr().out
    assert (tmp_path / "files.png").read_bytes().startswith(PNG_MAGIC)

    instance = parse_instance(INPUT)
    records = tmp_path / "records.jsonl"
    records.write_text(json.dumps(to_record(instance, solve_cpsat(instance).schedule)) + "\n")
    assert cli_main(["gantt", "--record", str(records), "--index", "0", "--output", str(tmp_path / "rec.png")]) == 0
    assert (tmp_path / "rec.png").read_bytes().startswith(PNG_MAGIC)

    results = tmp_path / "results.jsonl"
    line = {
        "id": "ex",
        "size": "2x3",
        "num_machines": 3,
        "input": format_instance(instance),
        "bound": 28,
        "best_text": OUTPUT,
        "samples": [],
    }
    results.write_text(json.dumps(line) + "\n" + json.dumps({**line, "id": "none", "best_text": None}) + "\n")
    assert cli_main(["gantt", "--results", str(results), "--id", "ex", "--output", str(tmp_path / "res.png")]) == 0
    assert (tmp_path / "res.png").read_bytes().startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match="no feasible answer"):
        cli_main(["gantt", "--results", str(results), "--id", "none", "--output", str(tmp_path / "x.png")])
    with pytest.raises(ValueError, match="no instance with id"):
        cli_main(["gantt", "--results", str(results), "--id", "zz", "--output", str(tmp_path / "x.png")])
    with pytest.raises(ValueError, match="give --instance and --solution"):
        cli_main(["gantt", "--instance", str(tmp_path / "input.txt")])


def test_gap_bar_chart_draws_methods_baselines_and_published_rows(tmp_path):
    summary = {"mean_gap": 0.2, "answered_rate": 0.5}
    report = {
        "groups": {
            "ta": {
                "sizes": ["15x15", "20x15"],
                "methods": {"model": {"sizes": {"15x15": summary, "20x15": {"mean_gap": None, "answered_rate": 0.0}}}},
                "baselines": {
                    "SPT (insertion)": {"15x15": {"mean_gap": 0.5}, "20x15": {"mean_gap": 0.6}},
                    "CP-SAT (10 s)": {"15x15": {"mean_gap": 0.1}, "20x15": {"mean_gap": 0.12}},
                },
                "published": [{"method": "L2D", "gaps": {"15x15": 25.95}}, {"method": "SPT", "gaps": {}}],
            }
        }
    }
    gap_bar_chart(report, tmp_path / "gaps.png")
    assert (tmp_path / "gaps.png").read_bytes().startswith(PNG_MAGIC)


def test_job_colours_are_distinct_up_to_20_jobs_and_ordered_beyond():
    from itertools import combinations

    twenty = job_colors(20)
    closest = min(sum((a - b) ** 2 for a, b in zip(x[:3], y[:3])) ** 0.5 for x, y in combinations(twenty, 2))
    assert closest > 0.15  # matplotlib's tab20, which pairs light and dark shades of a hue, gets 0.098
    fifty = job_colors(50)
    assert len(set(fifty)) == 50


@pytest.mark.parametrize("jobs", [6, 50])
def test_gantt_has_a_job_key_and_the_makespan_label_stays_off_the_bars(jobs):
    """Up to 20 jobs a legend names each job's colour, beyond a colour bar does; the makespan's label sits above the
    plotting area, where no bar is."""
    import random

    from jssp_sft import Instance
    from jssp_sft.solvers.dispatching import dispatching_rule

    rng = random.Random(jobs)
    instance = Instance(tuple(tuple((m, rng.randint(1, 30)) for m in rng.sample(range(5), 5)) for _ in range(jobs)), 5)
    schedule = dispatching_rule(instance, "MWKR")
    figure, report = gantt_figure(instance, schedule, bound=schedule.makespan - 5)
    assert report.feasible
    axes = figure.axes[0]
    if jobs <= 20:
        legend = axes.get_legend()
        assert [t.get_text() for t in legend.get_texts()] == [f"J{j}" for j in range(jobs)]
        assert len(figure.axes) == 1
    else:
        assert axes.get_legend() is None and figure.axes[1].get_ylabel() == "job"  # the colour bar
    renderer = figure.canvas.get_renderer()
    plot_area = axes.get_window_extent(renderer)
    labels = [t for t in axes.texts if t.get_text().startswith(("makespan", "bound"))]
    assert {t.get_text() for t in labels} == {f"makespan {schedule.makespan}", f"bound {schedule.makespan - 5}"}
    for label in labels:
        assert label.get_window_extent(renderer).y0 >= plot_area.y1 - 1  # above the bars, not over them
