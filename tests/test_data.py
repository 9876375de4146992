"""Starjob loading: every source kind (the Hub through a faked network), validation, filters, split, formatting."""

import hashlib
import json
import random
import re

import datasets
import httpx2
import huggingface_hub
import pytest
from huggingface_hub.utils import _http

from jssp_sft import Instance, Schedule, parse_instance, to_record, verify
from jssp_sft.cli.main import main as cli_main
from jssp_sft.data.json_stream import iter_json_records
from jssp_sft.data.loading import format_dataset, load_records, load_starjob
from jssp_sft.data.quality import check_outputs
from jssp_sft.data.records import SPEC_FIELDS
from jssp_sft.data.templates import PromptFormat, to_messages, to_prompt_completion, to_training_example
from jssp_sft.data.tokenization import token_lengths
from jssp_sft.data.validation import record_problem


SIZES = ((2, 2), (3, 3), (5, 4), (4, 6), (8, 8))


def random_instance(rng: random.Random, num_jobs: int, num_machines: int) -> Instance:
    jobs = [[(m, rng.randint(5, 500)) for m in rng.sample(range(num_machines), num_machines)] for _ in range(num_jobs)]
    return Instance(tuple(tuple(job) for job in jobs), num_machines)


def greedy_schedule(instance: Instance) -> Schedule:
    """Operations placed round-robin over the jobs, each at the later of its job's and its machine's last end."""
    job_end, machine_end, starts = [0] * instance.num_jobs, [0] * instance.num_machines, []
    for k in range(max(len(job) for job in instance.jobs)):
        for j, job in enumerate(instance.jobs):
            if k < len(job):
                machine, duration = job[k]
                start = max(job_end[j], machine_end[machine])
                starts.append((j, k, start))
                job_end[j] = machine_end[machine] = start + duration
    return Schedule.from_starts(instance, starts).with_declared_makespan()


def make_records(count: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for i in range(count):
        instance = random_instance(rng, *SIZES[i % len(SIZES)])
        records.append(to_record(instance, greedy_schedule(instance)))
    return records


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return make_records(100)


@pytest.fixture
def cache_dir(tmp_path):
    return str(tmp_path / "hf-cache")


def write_json(path, value):
    path.write_text(json.dumps(value, indent=1))
    return path


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def write_parquet(path, records):
    datasets.Dataset.from_list(records).to_parquet(str(path))
    return path


def as_list(dataset) -> list[dict]:
    return [{name: row[name] for name in SPEC_FIELDS} for row in dataset]


# ----------------------------------------------------------------------------------------------------- test data


def test_test_records_are_valid_and_feasible(records):
    for record in records[:10]:
        assert record_problem(record) is None
        instance = parse_instance(record["input"], num_machines=record["num_machines"])
        assert verify(instance, record["output"]).valid


# ------------------------------------------------------------------------------------------------- source kinds


@pytest.mark.parametrize("shape", ["list", "data", "data_not_first", "json_lines"])
def test_json_file_shapes(tmp_path, cache_dir, records, shape):
    path = tmp_path / "starjob.json"
    if shape == "list":
        write_json(path, records)
    elif shape == "data":
        write_json(path, {"data": records})
    elif shape == "data_not_first":
        write_json(path, {"version": 1, "data": records, "license": "CC BY-SA 4.0"})
    else:
        write_jsonl(path, records)
    assert as_list(load_records(path, cache_dir=cache_dir)) == records


@pytest.mark.parametrize("kind", ["jsonl", "parquet"])
def test_jsonl_and_parquet(tmp_path, cache_dir, records, kind):
    path = tmp_path / f"starjob.{kind}"
    (write_jsonl if kind == "jsonl" else write_parquet)(path, records)
    assert as_list(load_records(path, cache_dir=cache_dir)) == records


def test_directory_of_mixed_files_in_order_and_errors_name_the_file(tmp_path, cache_dir, records):
    directory = tmp_path / "data"
    directory.mkdir()
    write_json(directory / "a.json", {"data": records[:30]})
    write_jsonl(directory / "b.jsonl", records[30:60])
    (directory / "sub").mkdir()
    write_parquet(directory / "sub" / "c.parquet", records[60:])
    (directory / "notes.txt").write_text("not data")
    assert as_list(load_records(directory, cache_dir=cache_dir)) == records

    broken = [dict(record) for record in records[30:60]]
    broken[2]["input"] = "J0:\nM0:oops \n"
    write_jsonl(directory / "b.jsonl", broken)
    with pytest.raises(ValueError, match=r"record 32 \(b\.jsonl, record 2, line 3\): field 'input' does not parse"):
        load_starjob(directory, cache_dir=cache_dir)


def test_empty_directory_and_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no .json"):
        load_records(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        load_records(tmp_path / "missing.json")


# --------------------------------------------------------------------------------------- streaming JSON reader


@pytest.mark.parametrize("buf_size", [1, 7, 64, 1 << 16])
def test_stream_reader_matches_json_load_across_buffer_boundaries(tmp_path, records, buf_size):
    path = tmp_path / "x.json"
    # Numbers and nested values at every offset: a number cut by a buffer's end must not be read short.
    value = {"meta": {"n": 123456789, "xs": [1.5, -2, None, True]}, "data": [*records[:5], 1234567, "é\u2603"]}
    path.write_text("\ufeff" + json.dumps(value, indent=2, ensure_ascii=False), encoding="utf-8")
    assert list(iter_json_records(path, buf_size=buf_size)) == value["data"]
    path.write_text(json.dumps(records[:5], indent=1))
    assert list(iter_json_records(path, buf_size=buf_size)) == records[:5]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"a": 1},\n {"a": 2}\n {"a": 3}]', r"line 3, column 2: invalid JSON: after array element, I expect ','"),
        ('{"data": [{"a": 1}, {"a": ]}', r"line 1, column 27: invalid JSON: unallowed token"),
        ('[{"a": 1}] [2]', "line 1, column 12: invalid JSON: trailing garbage"),
        ("42", "line 1: expected a list of records"),
        ('{"data": [{"a": 1}]', "line 1: invalid JSON: the file ends inside a value"),
        ('{"a": 1}\n{"a": 2\n', "line 2, column 8: invalid JSON: Expecting ',' delimiter"),
    ],
)
def test_stream_reader_errors_name_line_and_column(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    for buf_size in (3, 1 << 16):
        with pytest.raises(ValueError, match=re.escape(str(path)) + ": " + message):
            list(iter_json_records(path, buf_size=buf_size))


def test_stream_reader_error_line_deep_in_a_big_file(tmp_path, records):
    lines = ["["] + [json.dumps(record) + "," for record in records * 20]
    lines[1500] = lines[1500].replace('"num_jobs": ', '"num_jobs" ')
    path = tmp_path / "big.json"
    path.write_text("\n".join(lines)[:-1] + "\n]")
    with pytest.raises(ValueError, match=re.escape(str(path)) + r": line 1501, column \d+: invalid JSON"):
        list(iter_json_records(path))


def test_malformed_json_file_error_reaches_the_caller(tmp_path, cache_dir, records):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"data": records[:3]}, indent=1)[:-3] + ", {]}")
    with pytest.raises(ValueError, match=re.escape(str(path)) + r": line \d+, column \d+: invalid JSON"):
        load_records(path, cache_dir=cache_dir)


def test_json_loader_is_cached_and_invalidated_by_changes(tmp_path, cache_dir, records):
    path = write_json(tmp_path / "s.json", {"data": records[:10]})
    first = load_records(path, cache_dir=cache_dir)
    again = load_records(path, cache_dir=cache_dir)
    assert again.cache_files == first.cache_files
    write_json(path, {"data": records[:12]})
    assert len(load_records(path, cache_dir=cache_dir)) == 12


# -------------------------------------------------------------------------------------------------- validation


def corrupted(records):
    bad = [dict(record) for record in records]
    bad[3]["input"] = bad[3]["input"].replace("M", "X", 1)  # does not parse
    del bad[5]["matrix"]  # a field missing
    bad[7]["num_jobs"] += 1  # disagrees with the input
    bad[9]["num_machines"] = 1  # machine ids out of range
    bad[11]["num_jobs"] = "3"  # wrong type
    bad[13] = ["not", "a", "record"]
    return bad


EXPECTED_PROBLEMS = {
    3: "field 'input' does not parse",
    5: "field 'matrix' missing",
    7: "field 'input' lists",
    9: "field 'input' does not parse: line",
    11: "field 'num_jobs' must be a positive integer, got '3'",
    13: "not an object but list",
}


def test_invalid_record_is_an_error_naming_its_index(tmp_path, cache_dir, records):
    path = write_json(tmp_path / "bad.json", corrupted(records[:20]))
    with pytest.raises(ValueError) as caught:
        load_starjob(path, cache_dir=cache_dir)
    message = str(caught.value)
    assert "6 of 20 records are invalid" in message
    for index, problem in EXPECTED_PROBLEMS.items():
        assert re.search(rf"^record {index}: {re.escape(problem)}", message, re.MULTILINE), (index, message)


def test_skip_invalid_drops_and_counts(tmp_path, cache_dir, records, caplog):
    path = write_json(tmp_path / "bad.json", corrupted(records[:20]))
    with caplog.at_level("WARNING", logger="jssp_sft.data.loading"):
        dataset, report = load_starjob(path, cache_dir=cache_dir, skip_invalid=True, test_size=0, return_report=True)
    assert report.num_invalid == 6 and [i for i, _ in report.invalid] == sorted(EXPECTED_PROBLEMS)
    assert as_list(dataset["train"]) == [r for i, r in enumerate(records[:20]) if i not in EXPECTED_PROBLEMS]
    assert "dropped 6 invalid records of 20" in caplog.text


def test_instruction_must_agree_with_the_size(records):
    record = dict(records[0], instruction=records[2]["instruction"])
    assert "field 'instruction' states 5 jobs and 4 machines" in record_problem(record)
    assert record_problem(dict(records[0], instruction="Schedule these jobs.")) is None


def test_validation_with_two_processes_finds_the_same_problems(tmp_path, cache_dir, records):
    path = write_jsonl(tmp_path / "bad.jsonl", [r for r in corrupted(records[:20]) if isinstance(r, dict)])
    with pytest.raises(ValueError, match=r"record 3 \(bad\.jsonl, line 4\): field 'input' does not parse") as caught:
        load_starjob(path, cache_dir=cache_dir, num_proc=2)
    assert "record 7 (bad.jsonl, line 8): field 'input' lists" in str(caught.value)


# ------------------------------------------------------------------------------------------------------ options


def test_size_filters(tmp_path, cache_dir, records):
    path = write_jsonl(tmp_path / "s.jsonl", records)
    dataset, report = load_starjob(path, cache_dir=cache_dir, max_jobs=4, test_size=0, return_report=True)
    expected = [r for r in records if r["num_jobs"] <= 4]
    assert as_list(dataset["train"]) == expected and report.num_too_large == len(records) - len(expected)
    dataset = load_starjob(path, cache_dir=cache_dir, max_jobs=5, max_machines=4, test_size=0)
    assert as_list(dataset["train"]) == [r for r in records if r["num_jobs"] <= 5 and r["num_machines"] <= 4]


def test_subset_is_seeded_and_keeps_order(tmp_path, cache_dir, records):
    path = write_jsonl(tmp_path / "s.jsonl", records)
    first = as_list(load_starjob(path, cache_dir=cache_dir, subset_size=30, test_size=0)["train"])
    again = as_list(load_starjob(path, cache_dir=cache_dir, subset_size=30, test_size=0)["train"])
    other = as_list(load_starjob(path, cache_dir=cache_dir, subset_size=30, test_size=0, seed=1)["train"])
    assert first == again and len(first) == 30 and first != other
    positions = [records.index(record) for record in first]
    assert positions == sorted(positions)
    assert len(load_starjob(path, cache_dir=cache_dir, subset_size=10**6, test_size=0)["train"]) == len(records)


def test_split_defaults_and_determinism(tmp_path, cache_dir, records):
    path = write_jsonl(tmp_path / "s.jsonl", records)
    split = load_starjob(path, cache_dir=cache_dir)
    assert set(split) == {"train", "test"} and (len(split["train"]), len(split["test"])) == (98, 2)
    again = load_starjob(path, cache_dir=cache_dir)
    assert as_list(again["test"]) == as_list(split["test"]) and as_list(again["train"]) == as_list(split["train"])
    # the same as datasets' own seeded split of the same records (the authors' call)
    reference = datasets.Dataset.from_list(records).train_test_split(test_size=0.02, seed=42)
    assert as_list(split["test"]) == as_list(reference["test"])
    other = load_starjob(path, cache_dir=cache_dir, seed=7, test_size=10)
    assert len(other["test"]) == 10 and as_list(other["test"]) != as_list(split["test"])
    assert sorted(map(json.dumps, as_list(other["train"]) + as_list(other["test"]))) == sorted(
        map(json.dumps, records)
    )
    assert set(load_starjob(path, cache_dir=cache_dir, test_size=0)) == {"train"}
    assert len(load_starjob(path, cache_dir=cache_dir, test_size=10.0)["test"]) == 10  # a count from a YAML float


def test_token_lengths_count_the_tokens_sfttrainer_makes(tmp_path, cache_dir, records):
    """The reports' token count (``jssp-sft data-report``); training drops long examples from the trainer's own
    tokenization (tests/test_data_tokenization.py)."""
    from jssp_sft.modeling.tiny import build_tokenizer

    tokenizer = build_tokenizer(vocab_size=300, corpus_size=20)
    path = write_jsonl(tmp_path / "s.jsonl", records)
    for template in ("prompt_completion", "messages", "alpaca"):
        prompt_format = PromptFormat(template)
        lengths = token_lengths(load_records(path, cache_dir=cache_dir), tokenizer, prompt_format)
        assert len(lengths) == len(records)
        # independently: the formatted example, tokenized as SFTTrainer does (EOS appended / chat template)
        for record, length in zip(records[:5], lengths):
            example = prompt_format.training_example(record)
            if template == "messages":
                ids = tokenizer.apply_chat_template(example["messages"], tokenize=True, return_dict=True)["input_ids"]
            else:
                text = example.get("text") or example["prompt"] + example["completion"]
                ids = tokenizer(text + tokenizer.eos_token)["input_ids"]
            assert length == len(ids)


def test_verify_outputs_reports_the_datas_own_rates(tmp_path, cache_dir, records):
    data = [dict(record) for record in records[:20]]
    data[1]["output"] = data[1]["output"].replace("Makespan: ", "Makespan: 1")  # wrong declared makespan
    ops = data[2]["output"].split("\n")
    data[2]["output"] = "\n".join([ops[0], ops[1].split(", ", 1)[1], ops[2]])  # an operation missing
    data[3]["output"] = "no solution here"
    path = write_json(tmp_path / "s.json", data)
    _, report = load_starjob(
        path, cache_dir=cache_dir, verify_outputs=True, test_size=0, return_report=True, require_solution=False
    )
    quality = report.output_quality
    assert (quality.num_records, quality.num_parsed, quality.num_feasible) == (20, 19, 18)
    assert quality.num_makespan_matches == 18 and quality.makespan_match_rate == 18 / 20
    assert quality.feasible_rate == 18 / 20
    assert quality.violations["missing_operation"] == 1 and quality.violations["unparseable"] == 1
    assert [i for i, _ in quality.examples] == [1, 2, 3]
    assert check_outputs(datasets.Dataset.from_list(records[:5])).feasible_rate == 1.0


# -------------------------------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("prompt_format", "columns"),
    [
        (PromptFormat(), ["prompt", "completion"]),
        (PromptFormat("messages", system_prompt="You schedule jobs."), ["messages"]),
        (PromptFormat("alpaca"), ["text"]),
    ],
)
def test_format_dataset_keeps_only_the_training_columns(tmp_path, cache_dir, records, prompt_format, columns):
    rows = [dict(record, solver_status="OPTIMAL") for record in records[:10]]
    split = load_starjob(write_jsonl(tmp_path / "s.jsonl", rows), cache_dir=cache_dir, test_size=2)
    assert "solver_status" in split["train"].column_names
    formatted = format_dataset(split, prompt_format)
    assert set(formatted) == {"train", "test"}
    for name in ("train", "test"):
        assert formatted[name].column_names == columns
        raw = split[name]
        assert [formatted[name][i] for i in range(len(raw))] == [prompt_format.training_example(r) for r in raw]
    single = format_dataset(split["train"], prompt_format)
    assert single.column_names == columns and single[0] == formatted["train"][0]


def test_template_shortcuts_wrap_prompt_format(records):
    record = records[0]
    assert to_prompt_completion(record) == PromptFormat().training_example(record)
    assert to_messages(record, "sys")["messages"][0] == {"role": "system", "content": "sys"}
    assert to_messages(record) == PromptFormat("messages").training_example(record)
    alpaca = to_training_example(record, template="alpaca")["text"]
    assert alpaca.startswith("Below is an instruction") and alpaca.endswith(record["output"])
    assert "### Input:\n" + record["input"] in alpaca


# -------------------------------------------------------------------------------------------------------- Hub


HUB_SHA = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    """The Hugging Face Hub's HTTP API for one dataset repo, answered from memory (only the network is fake)."""

    def __init__(self, repo_id: str, files: dict[str, bytes]):
        self.repo_id, self.files, self.requests = repo_id, files, []

    def file_entry(self, name: str) -> dict:
        body = self.files[name]
        return {"type": "file", "path": name, "size": len(body), "oid": hashlib.sha1(body).hexdigest()}

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(f"{request.method} {request.url}")
        path, repo = request.url.path, re.escape(self.repo_id)
        if match := re.fullmatch(rf"/datasets/{repo}/resolve/[^/]+/(.+)", path):
            name = match.group(1)
            if name not in self.files:
                return httpx2.Response(404, headers={"X-Error-Code": "EntryNotFound"}, request=request)
            body = self.files[name]
            headers = {
                "X-Repo-Commit": HUB_SHA,
                "ETag": f'"{hashlib.sha1(body).hexdigest()}"',
                "Content-Length": str(len(body)),
            }
            return httpx2.Response(200, headers=headers, content=b"" if request.method == "HEAD" else body)
        if re.fullmatch(rf"/api/datasets/{repo}(/revision/[^/]+)?", path):
            siblings = [{"rfilename": name} for name in self.files]
            return httpx2.Response(
                200, json={"id": self.repo_id, "sha": HUB_SHA, "private": False, "siblings": siblings}
            )
        if match := re.fullmatch(rf"/api/datasets/{repo}/tree/[^/]+(?:/(.*))?", path):
            folder = (match.group(1) or "").strip("/")
            names = [n for n in self.files if not folder or n.startswith(folder + "/")]
            entries, dirs = [], set()
            for name in names:
                rest = name[len(folder) + 1 :] if folder else name
                if "/" in rest and request.url.params.get("recursive") != "true":
                    dirs.add(f"{folder}/{rest.split('/')[0]}".strip("/"))
                else:
                    entries.append(self.file_entry(name))
            entries += [{"type": "directory", "path": d, "oid": "0" * 40} for d in sorted(dirs)]
            if folder and not entries:
                return httpx2.Response(404, headers={"X-Error-Code": "EntryNotFound"}, request=request)
            return httpx2.Response(200, json=entries)
        return httpx2.Response(404, json={"error": "not found"}, request=request)


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    """Route huggingface_hub's HTTP client to a FakeHub and switch offline mode off for the test."""
    hubs = []

    def install(repo_id: str, files: dict[str, bytes]) -> FakeHub:
        hub = FakeHub(repo_id, files)
        hubs.append(hub)
        _http.set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(hub), follow_redirects=True))
        _http.close_session()
        return hub

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    yield install
    _http.set_client_factory(_http.default_client_factory)
    _http.close_session()


def test_hub_json_is_downloaded_and_streamed(fake_hub, cache_dir, records):
    hub = fake_hub("henri24/Starjob", {"starjob130k.json": json.dumps({"data": records}).encode()})
    split = load_starjob("henri24/Starjob", cache_dir=cache_dir, test_size=0)
    assert as_list(split["train"]) == records
    assert any(r.startswith("GET ") and r.endswith(f"/resolve/{HUB_SHA}/starjob130k.json") for r in hub.requests)


def test_hub_jsonl_goes_through_load_dataset(fake_hub, cache_dir, records):
    lines = "".join(json.dumps(record) + "\n" for record in records).encode()
    hub = fake_hub("someone/starjob-jsonl", {"data/train.jsonl": lines, "README.md": b"# Starjob as JSON lines\n"})
    split = load_starjob("someone/starjob-jsonl", cache_dir=cache_dir)
    assert len(split["train"]) + len(split["test"]) == len(records)
    assert any(r.endswith(f"/resolve/{HUB_SHA}/data/train.jsonl") for r in hub.requests)
    with pytest.raises(ValueError, match="no split 'validation'"):
        load_starjob("someone/starjob-jsonl", split="validation", cache_dir=cache_dir)


# ------------------------------------------------------------------------------------------ jssp-sft data-report


def test_data_report_cli(tmp_path, cache_dir, records, capsys):
    from jssp_sft.modeling.tiny import build_tokenizer

    data = corrupted(records[:20])
    data[1]["output"] = data[1]["output"].replace("Makespan: ", "Makespan: 1")
    path = write_json(tmp_path / "d.json", data)
    tokenizer_dir = tmp_path / "tok"
    tokenizer = build_tokenizer(vocab_size=300, corpus_size=20)
    tokenizer.save_pretrained(tokenizer_dir)
    valid = [record for i, record in enumerate(data) if i not in EXPECTED_PROBLEMS]
    lengths = token_lengths(datasets.Dataset.from_list(valid), tokenizer)
    max_length = sorted(lengths)[7]

    argv = ["data-report", str(path), "--json", "--tokenizer", str(tokenizer_dir), "--max_length", str(max_length)]
    assert cli_main([*argv, "--cache_dir", cache_dir]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["num_records"] == 20 and report["num_invalid"] == 6
    assert [p["index"] for p in report["problems"]] == sorted(EXPECTED_PROBLEMS)
    assert report["sizes"] == {"2x2": 3, "3x3": 3, "4x6": 2, "5x4": 3, "8x8": 3}
    quality = report["output_quality"]
    assert quality["num_records"] == 14 and quality["num_makespan_matches"] == 13 and quality["feasible_rate"] == 1.0
    tokens = report["token_lengths"]
    assert tokens["count"] == 14 and (tokens["min"], tokens["max"]) == (min(lengths), max(lengths))
    assert tokens["num_over_max_length"] == sum(length > max_length for length in lengths) > 0

    ok = write_jsonl(tmp_path / "ok.jsonl", records[:10])
    assert cli_main(["data-report", "--cache_dir", cache_dir, str(ok)]) == 0
    text = capsys.readouterr().out
    assert "10 records, 0 invalid" in text and "feasible: 100.00%" in text and "2x2" in text
