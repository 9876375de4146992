"""Best-of-N solving with a (briefly trained) tiny model: every sample verified, the best kept, JSONL resumable."""

import importlib.util
import json

import pytest

from jssp_sft import Instance, parse_instance, verify
from jssp_sft.cli.main import main as cli_main
from jssp_sft.core.codec import format_instance
from jssp_sft.core.scoring import gap
from jssp_sft.data.templates import CHAT_TEMPLATE, PromptFormat
from jssp_sft.solve import JSSPSolver, Problem, SolveConfig, as_problem, choose_best, read_results
from jssp_sft.solvers.cpsat import solve_cpsat


pytestmark = pytest.mark.xdist_group("toy_solver_run")  # share the session's trained model with test_evaluation

SAMPLING = {"num_samples": 4, "max_new_tokens": 120, "temperature": 1.0, "seed": 0, "decoding": "free"}


@pytest.fixture(scope="module")
def solver(toy_solver_run):
    model_dir, _, _ = toy_solver_run
    return JSSPSolver.from_pretrained(str(model_dir), **SAMPLING)


def test_every_sample_is_verified_and_the_best_kept(solver, toy_solver_run):
    _, _, records = toy_solver_run
    results = solver.solve_many(records)
    assert [r.problem.id for r in results] == ["toy-0", "toy-1", "toy-2"]
    feasible_flags = []
    for result, record in zip(results, records):
        instance = parse_instance(record["input"])
        assert result.problem.bound == solve_cpsat(instance, time_limit=10).makespan
        assert len(result.samples) == 4
        for sample in result.samples:
            assert sample.report == verify(instance, sample.text)  # the stored verdict is the verifier's
            assert 0 < sample.num_tokens <= 120 and sample.seconds >= 0
            feasible_flags.append(sample.report.feasible)
        makespans = [s.report.makespan for s in result.samples if s.report.feasible]
        if makespans:
            assert result.makespan == min(makespans)
            assert result.best.report.feasible and result.best_source == "written"
            assert verify(instance, result.schedule).feasible and result.text == result.best.text
            assert result.gap == pytest.approx(gap(min(makespans), result.problem.bound))
        else:
            assert result.best is None and result.gap is None and result.schedule is None
    # the test bed makes both kinds
    assert any(feasible_flags) and not all(feasible_flags)
    answered = {r.problem.id: r for r in results if r.best is not None}
    if "toy-1" in answered:  # it was taught a serial schedule: feasible but not optimal
        assert answered["toy-1"].gap > 0


def test_prompts_come_from_the_saved_template(solver, toy_solver_run):
    _, _, records = toy_solver_run
    record = records[0]
    instance = parse_instance(record["input"])
    assert solver.prompt_format == PromptFormat()
    expected = PromptFormat().prompt_text(record)
    assert solver.prompt_for(as_problem(record)) == expected
    assert solver.prompt_for(as_problem(instance)) == expected  # canonical instance text = the record's
    assert solver.prompt_for(as_problem(record["input"])) == expected  # a bare input gets the template
    whole = "Please solve:\n" + record["input"]
    assert solver.prompt_for(as_problem(whole)) == whole  # a whole prompt is used as it is
    with pytest.raises(TypeError, match="cannot solve"):
        as_problem(42)
    with pytest.raises(TypeError, match="unknown solve option"):
        solver.solve(instance, num_sample=3)


def test_batched_samples_match_one_at_a_time(solver, toy_solver_run):
    _, _, records = toy_solver_run
    greedy = {"num_samples": 1, "temperature": 0.0, "max_new_tokens": 40}
    batched = solver.solve_many(records, batch_size=3, **greedy)
    alone = [solver.solve(record, **greedy) for record in records]
    assert [r.samples[0].text for r in batched] == [r.samples[0].text for r in alone]
    shared = solver.solve_many(records, batch_size=3, **{**greedy, "num_samples": 3})
    assert all(len({s.text for s in r.samples}) == 1 for r in shared)
    assert [r.samples[0].text for r in shared] == [r.samples[0].text for r in alone]


def test_best_prefers_lowest_makespan_then_written_then_declared():
    from jssp_sft.core.verifier import Report
    from jssp_sft.solve import Sample

    def sample(feasible, makespan, matches=True, repaired=None):
        report = Report(feasible, makespan, makespan if matches else None, matches if feasible else None)
        return Sample("", report, 1, True, 0.0, repaired)

    instance = Instance.from_arrays([[0]], [[5]])
    repaired = solve_cpsat(instance).schedule  # makespan 5
    assert choose_best([sample(False, None), sample(False, 9)]) is None
    assert choose_best([sample(True, 7), sample(True, 6, matches=False), sample(True, 6)]) == 2
    assert choose_best([sample(False, 3, repaired=repaired), sample(True, 5)]) == 1
    assert choose_best([sample(False, 3, repaired=repaired), sample(True, 6)]) == 0


def test_repair_hook_counts_repaired_answers_apart(solver, toy_solver_run):
    _, _, records = toy_solver_run

    def resolve_with_cpsat(instance, text):  # a real (if heavy-handed) repair: solve the instance again
        return solve_cpsat(instance, time_limit=5).schedule

    repairing = JSSPSolver(solver.backend, solver.prompt_format, solver.config, repair_function=resolve_with_cpsat)
    results = repairing.solve_many(records, repair=True, max_new_tokens=12)  # too short: nothing feasible as written
    for result in results:
        assert not result.feasible
        assert all(s.repaired is not None for s in result.samples)
        assert result.best_source == "repaired" and result.makespan == result.problem.bound
        assert verify(result.problem.instance, result.text).valid
        line = result.to_dict()
        assert line["best_source"] == "repaired" and line["feasible"] is False
        assert all(s["repaired"] and not s["feasible"] for s in line["samples"])


def test_decoding_modes_and_backends_are_checked(tiny_model_dir):
    with pytest.raises(ValueError, match="unknown decoding"):
        SolveConfig(decoding="beam")
    with pytest.raises(ValueError, match="unknown backend"):
        JSSPSolver.from_pretrained(str(tiny_model_dir), backend="tensorrt")


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed: the guard is not hit")
def test_vllm_backend_says_how_to_install_it(tiny_model_dir):
    with pytest.raises(ImportError, match=r'pip install "jssp-sft\[vllm\]"'):
        JSSPSolver.from_pretrained(str(tiny_model_dir), backend="vllm")


def test_adapter_run_loads_on_its_base_with_its_chat_template(toy_solver_run, tmp_path):
    from peft import LoraConfig, get_peft_model

    from jssp_sft.modeling.loading import load_model, load_tokenizer

    model_dir, _, records = toy_solver_run
    base = load_model(str(model_dir))
    peft_model = get_peft_model(base, LoraConfig(r=4, target_modules="all-linear"))  # B = 0: same outputs as base
    adapter_dir = tmp_path / "adapter"
    peft_model.save_pretrained(adapter_dir)
    tokenizer = load_tokenizer(str(model_dir))
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(adapter_dir)
    PromptFormat("messages", system_prompt="You schedule jobs.").save_pretrained(adapter_dir)
    assert json.loads((adapter_dir / "adapter_config.json").read_text())["base_model_name_or_path"] == str(model_dir)

    solver = JSSPSolver.from_pretrained(str(adapter_dir), num_samples=1, temperature=0.0, max_new_tokens=30)
    assert solver.prompt_format == PromptFormat("messages", "You schedule jobs.")
    prompt = solver.prompt_for(as_problem(records[0]))
    assert prompt.startswith("<|im_start|>system\nYou schedule jobs.<|im_end|>\n<|im_start|>user\n")
    assert prompt.endswith("<|im_start|>assistant\n")
    plain = JSSPSolver.from_pretrained(str(model_dir), prompt_format=solver.prompt_format, **solver.config.__dict__)
    assert solver.solve(records[0]).samples[0].text == plain.solve(records[0]).samples[0].text
    # overriding the template drops the saved system prompt
    assert JSSPSolver.from_pretrained(str(adapter_dir), template="alpaca").prompt_format == PromptFormat("alpaca")


# ------------------------------------------------------------------------------------------------ the command


def solve_cli(model_dir, output, *extra):
    args = [
        "solve",
        "--model",
        str(model_dir),
        "--output",
        str(output),
        "--num_samples",
        "4",
        "--max_new_tokens",
        "120",
        "--seed",
        "0",
        "--decoding",
        "free",
        *extra,
    ]
    assert cli_main(args) == 0


def test_cli_writes_one_complete_line_per_instance_and_resumes(toy_solver_run, tmp_path, capsys):
    model_dir, records_path, records = toy_solver_run
    output = tmp_path / "results.jsonl"
    solve_cli(model_dir, output, "--dataset", str(records_path), "--batch_size", "2")
    assert "3 instances" in capsys.readouterr().out
    lines, _ = read_results(output)
    assert sorted(line["id"] for line in lines) == ["toy-0", "toy-1", "toy-2"]
    by_id = {line["id"]: line for line in lines}
    for record in records:
        line = by_id[record["id"]]
        instance = parse_instance(record["input"])
        assert line["input"] == format_instance(instance) and line["size"] == instance.size
        assert line["bound"] == solve_cpsat(instance, time_limit=10).makespan
        assert line["bound_source"] == "the record's solver makespan" and line["bound_optimal"] is None
        assert len(line["samples"]) == 4
        for sample in line["samples"]:
            assert {"feasible", "makespan", "violations", "tokens", "seconds"} <= set(sample)
            assert sample["feasible"] == (not any(k != "makespan_mismatch" for k in sample["violations"]))
        feasible = [s["makespan"] for s in line["samples"] if s["feasible"]]
        assert line["feasible"] == bool(feasible)
        if feasible:
            assert line["best_makespan"] == min(feasible) == line["samples"][line["best_sample"]]["makespan"]
            assert verify(instance, line["best_text"]).makespan == line["best_makespan"]
            assert line["gap"] == pytest.approx((line["best_makespan"] - line["bound"]) / line["bound"])
        else:
            assert line["best_text"] is None and line["gap"] is None
        assert line["config"]["num_samples"] == 4 and line["config"]["template"] == "prompt_completion"
    assert any(line["feasible"] for line in lines)

    # killed while writing the third line: the torn line is cut off and only the missing instances are solved
    full = output.read_bytes()
    first_two = b"".join(full.splitlines(keepends=True)[:2])
    output.write_bytes(first_two + full.splitlines(keepends=True)[2][:25])
    solve_cli(model_dir, output, "--dataset", str(records_path), "--batch_size", "2")
    resumed = output.read_bytes()
    assert resumed.startswith(first_two) and resumed.count(b"\n") == 3
    assert sorted(line["id"] for line in read_results(output)[0]) == ["toy-0", "toy-1", "toy-2"]
    # nothing left to do: the file is unchanged
    solve_cli(model_dir, output, "--dataset", str(records_path))
    assert output.read_bytes() == resumed
    # other settings cannot continue the file
    with pytest.raises(ValueError, match="num_samples=4 .* num_samples=2"):
        cli_main(
            [
                "solve",
                "--model",
                str(model_dir),
                "--output",
                str(output),
                "--dataset",
                str(records_path),
                "--num_samples",
                "2",
                "--max_new_tokens",
                "120",
                "--decoding",
                "free",
            ]
        )


def test_cli_benchmarks_with_limit_and_sample_texts(toy_solver_run, tmp_path):
    model_dir, _, _ = toy_solver_run
    output = tmp_path / "bench.jsonl"
    solve_cli(model_dir, output, "--benchmark", "ft06,la01,ft06", "--max_new_tokens", "8", "--save_sample_texts")
    lines, _ = read_results(output)
    assert [line["id"] for line in sorted(lines, key=lambda x: x["id"])] == ["ft06", "la01"]
    ft06 = next(line for line in lines if line["id"] == "ft06")
    assert (ft06["group"], ft06["size"], ft06["bound"], ft06["bound_optimal"]) == ("ft", "6x6", 55, True)
    assert "best known upper bound" in ft06["bound_source"]
    assert all(len(s["text"]) > 0 and s["tokens"] <= 8 for s in ft06["samples"])
    assert not ft06["feasible"] and ft06["best_makespan"] is None  # 8 tokens cannot hold a 36-operation answer
    limited = tmp_path / "limited.jsonl"
    solve_cli(model_dir, limited, "--benchmark", "la:10x5", "--limit", "2", "--max_new_tokens", "4")
    assert [line["id"] for line in read_results(limited)[0]] == ["la01", "la02"]


def test_cli_rejects_bad_input(toy_solver_run, tmp_path):
    model_dir, records_path, _ = toy_solver_run
    with pytest.raises(ValueError, match="give exactly one of --instance"):
        cli_main(["solve", "--model", str(model_dir), "--output", str(tmp_path / "x.jsonl")])
    with pytest.raises(ValueError, match="unknown benchmark"):
        solve_cli(model_dir, tmp_path / "x.jsonl", "--benchmark", "ta99")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "samples": []}\nnot json\n{"id": "b", "samples": []}\n')
    with pytest.raises(ValueError, match="line 2 is not a results line"):
        read_results(bad)
    bad.write_text('{"id": "a", "samples": []}\n{"id": "a", "samples": []}\n')
    with pytest.raises(ValueError, match="line 2 repeats id 'a'"):
        read_results(bad)


def test_problem_from_record_and_benchmark(toy_solver_run):
    _, _, records = toy_solver_run
    problem = Problem.from_record({**records[0], "solver_status": "OPTIMAL", "makespan": 8})
    assert (problem.id, problem.bound, problem.bound_optimal, problem.group) == ("toy-0", 8, True, "dataset")
    ft06 = Problem.from_benchmark("FT6")
    assert (ft06.id, ft06.group, ft06.bound, ft06.size) == ("ft06", "ft", 55, "6x6")


# -------------------------------------------------------------------------------------------------------- Hub

HUB_SHA = "89abcdef0123456789abcdef0123456789abcdef"


class FakeModelHub:
    """The Hub's HTTP API for model repos, answered from memory: only the network is fake."""

    def __init__(self, repos: dict[str, dict[str, bytes]]):
        self.repos, self.requests = repos, []

    def __call__(self, request):
        import hashlib
        import re

        import httpx2

        self.requests.append(f"{request.method} {request.url.path}")
        for repo_id, files in self.repos.items():
            repo = re.escape(repo_id)
            if match := re.fullmatch(rf"/{repo}/resolve/[^/]+/(.+)", request.url.path):
                body = files.get(match.group(1))
                if body is None:
                    return httpx2.Response(404, headers={"X-Error-Code": "EntryNotFound"}, request=request)
                headers = {
                    "X-Repo-Commit": HUB_SHA,
                    "ETag": f'"{hashlib.sha1(body).hexdigest()}"',
                    "Content-Length": str(len(body)),
                }
                return httpx2.Response(200, headers=headers, content=b"" if request.method == "HEAD" else body)
            if match := re.fullmatch(rf"/api/models/{repo}/tree/[^/]+(?:/(.+))?", request.url.path):
                if match.group(1):  # a folder: these repos have none
                    return httpx2.Response(404, headers={"X-Error-Code": "EntryNotFound"}, request=request)
                entries = [
                    {"type": "file", "path": name, "size": len(body), "oid": hashlib.sha1(body).hexdigest()}
                    for name, body in files.items()
                ]
                return httpx2.Response(200, json=entries)
            if re.fullmatch(rf"/api/models/{repo}(/revision/[^/]+)?", request.url.path):
                siblings = [{"rfilename": name} for name in files]
                return httpx2.Response(200, json={"id": repo_id, "sha": HUB_SHA, "siblings": siblings})
        return httpx2.Response(404, headers={"X-Error-Code": "RepoNotFound"}, json={"error": "not found"})


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    import httpx2
    import huggingface_hub
    from huggingface_hub.utils import _http

    def install(repos: dict[str, dict[str, bytes]]) -> FakeModelHub:
        hub = FakeModelHub(repos)
        _http.set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(hub), follow_redirects=True))
        _http.close_session()
        return hub

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    yield install
    _http.set_client_factory(_http.default_client_factory)
    _http.close_session()


def test_hub_ids_load_merged_models_and_adapters(toy_solver_run, fake_hub, tmp_path):
    from peft import LoraConfig, get_peft_model

    from jssp_sft.modeling.loading import load_model

    model_dir, _, records = toy_solver_run
    merged = {p.name: p.read_bytes() for p in model_dir.iterdir() if p.is_file()}
    merged["jssp_sft_prompt.json"] = b'{"template": "alpaca", "system_prompt": null}'
    adapter_dir = tmp_path / "adapter"
    get_peft_model(load_model(str(model_dir)), LoraConfig(r=4, target_modules="all-linear")).save_pretrained(
        adapter_dir
    )
    adapter = {p.name: p.read_bytes() for p in adapter_dir.iterdir() if p.is_file()}  # no tokenizer: the base's
    hub = fake_hub({"someone/toy-merged": merged, "someone/toy-adapter": adapter})

    greedy = {"num_samples": 1, "temperature": 0.0, "max_new_tokens": 20}
    from_hub = JSSPSolver.from_pretrained("someone/toy-merged", **greedy)
    assert from_hub.prompt_format == PromptFormat("alpaca")  # read from the repo's saved settings
    local = JSSPSolver.from_pretrained(str(model_dir), template="alpaca", **greedy)
    assert from_hub.solve(records[0]).samples[0].text == local.solve(records[0]).samples[0].text
    assert any(r.startswith("GET ") and r.endswith("/jssp_sft_prompt.json") for r in hub.requests)

    on_base = JSSPSolver.from_pretrained("someone/toy-adapter", **greedy)  # base: the local model dir
    assert on_base.prompt_format == PromptFormat()  # the adapter repo saved none: the defaults
    plain = JSSPSolver.from_pretrained(str(model_dir), **greedy)
    assert on_base.solve(records[1]).samples[0].text == plain.solve(records[1]).samples[0].text
    assert any("adapter_model.safetensors" in r for r in hub.requests)


@pytest.mark.parametrize("command", ["solve", "evaluate", "gantt"])
def test_help_renders(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main([command, "--help"])
    assert exit_info.value.code == 0 and "--" in capsys.readouterr().out


def test_sampling_seeds_do_not_depend_on_the_name(solver, toy_solver_run):
    """One instance under two ids (two file names): the same seed, so the same free-decoding samples."""
    _, _, records = toy_solver_run
    instance = parse_instance(records[1]["input"])
    first = solver.solve(Problem.from_instance(instance, id="shop.txt"))
    second = solver.solve(Problem.from_instance(instance, id="renamed-shop.json"))
    assert [s.text for s in first.samples] == [s.text for s in second.samples]
    reseeded = solver.solve(Problem.from_instance(instance, id="shop.txt"), seed=1)
    assert [s.text for s in reseeded.samples] != [s.text for s in first.samples]
