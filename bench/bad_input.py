"""Bad input against every ``jssp-sft`` subcommand and the HTTP service: how many cases end in a raw traceback, how
many in a clear error; how many service requests get a 500 or lose their keep-alive connection.

Each case runs ``jssp-sft COMMAND ARGS`` in a subprocess (offline, in a scratch directory holding a tiny model, a
valid instance, solution and data file, and a set of broken files) and is classified by what it printed on stderr:

- ``traceback``: a raw Python traceback (``Traceback (most recent call last)``), the failure issue 16 counts;
- ``one-line``: no traceback, and the last stderr line is the command's error (``jssp-sft CMD: error: ...`` or
  ``... internal error ...``);
- ``clean``: no traceback at all (one-line errors, verdicts, or a bad value silently accepted).

Each case states the exit status the CLI documents for it (0 success or feasible, 1 a negative verdict, 2 bad usage or
input, 3 internal error); ``status ok`` counts the cases that got it. A bad value the command silently accepted shows
as a wrong status (0 instead of 2).

The service part (``serve``) starts ``jssp-sft serve`` with the tiny model and sends tests/test_serve.py's bad
requests (malformed instances, NaN, Infinity, out-of-range seeds and temperatures, huge and 5000-digit numbers, deep
nesting, other scripts' digits, ...) on one keep-alive connection, each followed by a health check on the same
connection; it counts the answers of 500 and the connections lost (both must be 0).

    python bench/bad_input.py [--jobs 2] [--only verify,gantt,serve] [--verbose]
"""

from __future__ import annotations

import json
import os
import random
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser


JSSP_SFT = str(Path(sys.executable).parent / "jssp-sft")
TRACEBACK = "Traceback (most recent call last)"
TESTS = Path(__file__).resolve().parents[1] / "tests"


@dataclass
class BenchArguments:
    jobs: int = field(default=2, metadata={"help": "Cases run at once."})
    only: str | None = field(default=None, metadata={"help": "Comma-separated commands to run (default: all)."})
    timeout: int = field(default=240, metadata={"help": "Seconds before a case counts as hanging."})
    verbose: bool = field(default=False, metadata={"help": "Print every case with its status and last stderr line."})


@dataclass(frozen=True)
class Case:
    command: str
    label: str
    argv: str  # shell words, split with shlex
    expected: int = 2  # the documented status: 2 bad input, 1 negative verdict (infeasible; invalid records found)
    stdin: str | None = None

    @property
    def args(self) -> list[str]:
        return shlex.split(self.argv)


# --------------------------------------------------------------------------------------------------- fixtures

INSTANCE = "J0:\nM0:3 M1:2 \nJ1:\nM1:4 M0:1 \n"
SOLUTION = "Solution:\nJ0-M0: 0+3 -> 3, J1-M1: 0+4 -> 4, J1-M0: 4+1 -> 5, J0-M1: 4+2 -> 6\nMakespan: 6"


def _serial_records(count: int, seed: int = 0) -> list[dict]:
    """Small Starjob records whose outputs are serial (feasible) schedules."""
    from jssp_sft import Instance, Schedule, to_record

    rng = random.Random(seed)
    records = []
    for i in range(count):
        n, m = rng.randint(2, 3), rng.randint(2, 3)
        instance = Instance(
            tuple(tuple((mach, rng.randint(1, 9)) for mach in rng.sample(range(m), m)) for _ in range(n)), m
        )
        starts, clock = [], 0
        for j, job in enumerate(instance.jobs):
            for k, (_, duration) in enumerate(job):
                starts.append((j, k, clock))
                clock += duration
        records.append({"id": f"serial-{i}", **to_record(instance, Schedule.from_starts(instance, starts))})
    return records


def make_fixtures(root: Path) -> None:
    """Valid and broken files the cases point at (paths relative to ``root``, the cases' working directory)."""
    from jssp_sft.modeling.tiny import TinyModelArguments, build_tiny

    build_tiny(
        TinyModelArguments(
            output_dir=str(root / "tiny-model"),
            vocab_size=400,
            tokenizer_corpus_size=80,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
            max_position_embeddings=1024,
        )
    )
    records = _serial_records(24)
    files = {
        "instance.txt": INSTANCE,
        "solution.txt": SOLUTION,
        "empty.txt": "",
        "garbage.txt": "hello, this is not a job shop\n",
        "blank_line_instance.txt": "J0:\nM0:3 M1:2 \n\nJ1:\nM1:4 M0:1 \n",
        "job0_only.txt": "Solution:\nJ0-M0: 0+3 -> 3, J0-M1: 3+2 -> 5\nMakespan: 5",
        "out_of_order_instance.txt": "J1:\nM0:3 M1:2 \nJ0:\nM1:4 M0:1 \n",
        "bad_ops_instance.txt": "J0:\nM0:three M1:2 \nJ1:\nM1:4 M0:1 \n",
        "too_many_machines.txt": "Optimize schedule for 2 Jobs (denoted as J) across 2 Machines (denoted as M)\n"
        "J0:\nM0:3 M5:2 \nJ1:\nM1:4 M0:1 \n",
        "huge_makespan.txt": SOLUTION.replace("Makespan: 6", "Makespan: 6000000000000000"),
        "infeasible.txt": SOLUTION.replace("J1-M0: 4+1 -> 5", "J1-M0: 2+1 -> 3"),
        "data.jsonl": "".join(json.dumps(r) + "\n" for r in records),
        "empty.jsonl": "",
        "bad_line.jsonl": json.dumps(records[0]) + "\n{not json\n" + json.dumps(records[1]) + "\n",
        "all_invalid.jsonl": "".join(json.dumps({**r, "input": "nothing here"}) + "\n" for r in records[:3]),
        "string_num_jobs.jsonl": json.dumps({**records[0], "num_jobs": "3"}) + "\n",
        "prose_output.jsonl": "".join(json.dumps({**r, "output": "I think it is fine."}) + "\n" for r in records[:3]),
        "records.csv": "a,b\n1,2\n",
        "results_garbage.jsonl": "this is not json\n",
        "results_wrong_fields.jsonl": json.dumps({"hello": 1}) + "\n",
        "bad_yaml.yaml": "model_name_or_path: [unclosed\n",
        "unknown_key.yaml": "no_such_option: 3\n",
        "not_a_run/readme.txt": "an empty directory would do\n",
        "binary.txt": "",
        # issue 20: a junk line between jobs, text after the operations, digits of other scripts, huge numbers
        "trunc.txt": "J0:\nM0:5 M1:3\n# job 1 follows\nJ1:\nM1:4 M0:2\n",
        "sol0.txt": "Solution:\nJ0-M0: 0+5 -> 5, J0-M1: 5+3 -> 8\nMaximum end completion time or Makespan: 8\n",
        "trailing_ops.txt": SOLUTION.replace("4+2 -> 6", "4+2 -> 6 J0-M0: 0+99 -> 5 J5-M9: 1+1 -> 2"),
        "arabic_digit.txt": SOLUTION.replace("4+2 -> 6", "4+2 -> 6\u0660"),
        "fullwidth_makespan.txt": SOLUTION.replace("Makespan: 6", "Makespan: 6\uff10"),
        "bad_candidate.txt": SOLUTION.replace("\nMakespan", "\nNext: J1-M0: 4+1 -> 5\nMakespan"),
        "huge.json": json.dumps([[[0, 3 * 2**62]], [[0, 1]]]),
        "infinite.json": "[[[0, 1e400]], [[0, 1]]]",
        "nan.json": '{"jobs": [[[0, 1]], [[1, NaN]]]}',
        "deep.json": "[" * 5000 + "]" * 5000,
        "superscript.txt": "2 \u00b2\n0 1 1 2\n1 3 0 4\n",
        "taillard_extra.txt": "2 3\n7 12 5 9\n9 4 11\n3 1 2\n1 3 2\n",
        "bom_instance.txt": "\ufeff" + INSTANCE,
        "standard.txt": "2 2\n0 3 1 2\n1 4 0 1\n",
        "schedule.json": json.dumps(
            {
                "makespan": 6,
                "operations": [
                    {"job": 0, "operation": 0, "machine": 0, "start": 0, "end": 3, "duration": 3},
                    {"job": 1, "operation": 0, "machine": 1, "start": 0, "end": 4, "duration": 4},
                    {"job": 1, "operation": 1, "machine": 0, "start": 4, "end": 5, "duration": 1},
                    {"job": 0, "operation": 1, "machine": 1, "start": 4, "end": 6, "duration": 2},
                ],
            }
        ),
        "schedule.csv": "job,operation,machine,start,end,duration\n0,0,0,0,3,3\n1,0,1,0,4,4\n1,1,0,4,5,1\n0,1,1,4,6,2\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "binary.txt").write_bytes(b"\xff\xfe\x00J0:\x9c\n")
    (root / "empty_dir").mkdir()


# ------------------------------------------------------------------------------------------------------ cases

# Flags that keep a case short should the command accept its bad value and run.
TRAIN_FAST = "--max_steps 1 --use_cpu true --bf16 false --report_to none"
QUICK_FAST = "--num_instances 16 --max_steps 1 --test_problems 1"
SOLVE_FAST = "--benchmark ft06 --limit 1 --max_new_tokens 8 --num_samples 1"


def cases() -> list[Case]:
    v, g, dr, s, e, ga = "verify", "generate", "data-report", "solve", "evaluate", "gantt"
    t, q, p, gr, top = "train", "quickstart", "push", "grpo", "(top level)"
    return [
        # (top level)
        Case(top, "no command", ""),
        Case(top, "unknown command", "nosuch"),
        Case(top, "unknown flag", "verify --nosuch 1"),
        # verify
        Case(v, "no arguments", ""),
        Case(v, "missing instance file", "--instance missing.txt --solution solution.txt"),
        Case(v, "missing solution file", "--instance instance.txt --solution missing.txt"),
        Case(v, "empty instance file", "--instance empty.txt --solution solution.txt"),
        Case(v, "prose instead of an instance", "--instance garbage.txt --solution solution.txt"),
        Case(v, "instance is a directory", "--instance empty_dir --solution solution.txt"),
        Case(v, "instance not UTF-8", "--instance binary.txt --solution solution.txt"),
        Case(v, "jobs out of order", "--instance out_of_order_instance.txt --solution solution.txt"),
        Case(v, "non-numeric duration", "--instance bad_ops_instance.txt --solution solution.txt"),
        Case(v, "machine beyond the instruction", "--instance too_many_machines.txt --solution solution.txt"),
        Case(v, "empty solution (infeasible)", "--instance instance.txt --solution empty.txt", 1),
        Case(v, "prose solution (infeasible)", "--instance instance.txt --solution garbage.txt", 1),
        Case(v, "overlapping solution (infeasible)", "--instance instance.txt --solution infeasible.txt", 1),
        Case(
            v, "blank line between jobs, job 0 only", "--instance blank_line_instance.txt --solution job0_only.txt", 1
        ),
        Case(v, "solution on stdin: empty", "--instance instance.txt", 1, stdin=""),
        Case(v, "--json not a boolean", "--instance instance.txt --solution solution.txt --json maybe"),
        # issue 20
        Case(v, "junk line between jobs", "--instance trunc.txt --solution sol0.txt"),
        Case(v, "operations after the list (unparseable)", "--instance instance.txt --solution trailing_ops.txt", 1),
        Case(v, "digit of another script in an end", "--instance instance.txt --solution arabic_digit.txt", 1),
        Case(v, "fullwidth digit in the makespan", "--instance instance.txt --solution fullwidth_makespan.txt", 1),
        Case(v, "malformed candidate line", "--instance instance.txt --solution bad_candidate.txt", 1),
        Case(v, "JSON duration 3x2^62", "--instance huge.json --solution solution.txt"),
        Case(v, "JSON duration 1e400", "--instance infinite.json --solution solution.txt"),
        Case(v, "JSON duration NaN", "--instance nan.json --solution solution.txt"),
        Case(v, "JSON nested 5000 deep", "--instance deep.json --solution solution.txt"),
        Case(v, "superscript digit in a standard file", "--instance superscript.txt --solution solution.txt"),
        Case(v, "Taillard file with a number too many", "--instance taillard_extra.txt --solution solution.txt"),
        Case(v, "instance with a BOM (reads)", "--instance bom_instance.txt --solution solution.txt", 0),
        Case(v, "standard instance (reads)", "--instance standard.txt --solution solution.txt", 0),
        Case(v, "solve's JSON schedule (reads)", "--instance standard.txt --solution schedule.json", 0),
        Case(v, "solve's CSV schedule (reads)", "--instance standard.txt --solution schedule.csv", 0),
        # generate
        Case(g, "--num_instances 0", "--output gen.jsonl --num_instances 0 --sizes 2x2"),
        Case(g, "--num_instances -5", "--output gen.jsonl --num_instances -5 --sizes 2x2"),
        Case(g, "--sizes abc", "--output gen.jsonl --num_instances 2 --sizes abc"),
        Case(g, "--sizes 0x0", "--output gen.jsonl --num_instances 2 --sizes 0x0"),
        Case(g, "--time_limit -1", "--output gen.jsonl --num_instances 2 --sizes 2x2 --time_limit -1"),
        Case(
            g,
            "--min_duration > --max_duration",
            "--output gen.jsonl --num_instances 2 --sizes 2x2 --min_duration 10 --max_duration 5",
        ),
        Case(
            g,
            "--shard_index >= --num_shards",
            "--output gen.jsonl --num_instances 2 --sizes 2x2 --num_shards 2 --shard_index 5",
        ),
        Case(
            g, "output under a file, not a directory", "--output instance.txt/gen.jsonl --num_instances 2 --sizes 2x2"
        ),
        Case(g, "output is a directory", "--output empty_dir --num_instances 2 --sizes 2x2"),
        Case(g, "--num_instances not a number", "--output gen.jsonl --num_instances many"),
        # data-report
        Case(dr, "no path", ""),
        Case(dr, "missing file", "missing.jsonl"),
        Case(dr, "missing relative data path", "data/nope.jsonl"),
        Case(dr, "empty .jsonl", "empty.jsonl"),
        Case(dr, "a bad JSON line", "bad_line.jsonl"),
        Case(dr, "all records invalid", "all_invalid.jsonl", 1),
        Case(dr, "num_jobs given as a string", "string_num_jobs.jsonl", 1),
        Case(dr, "outputs are prose", "prose_output.jsonl", 1),
        Case(dr, "unsupported extension", "records.csv"),
        Case(dr, "directory without data", "empty_dir"),
        Case(dr, "--max_length without --tokenizer", "data.jsonl --max_length 100"),
        Case(dr, "missing local tokenizer", "data.jsonl --tokenizer ./missing-model"),
        Case(dr, "--template bogus", "data.jsonl --template bogus"),
        # solve
        Case(s, "no arguments", ""),
        Case(s, "missing local model path", f"--model ./missing-model --output o.jsonl {SOLVE_FAST}"),
        Case(s, "unknown benchmark", "--model tiny-model --output o.jsonl --benchmark nosuch"),
        Case(s, "missing dataset file", "--model tiny-model --output o.jsonl --dataset missing.jsonl"),
        Case(s, "empty dataset file", "--model tiny-model --output o.jsonl --dataset empty.jsonl"),
        Case(s, "--temperature -1", f"--model tiny-model --output o1.jsonl {SOLVE_FAST} --temperature -1"),
        Case(s, "--top_p 1.5", f"--model tiny-model --output o2.jsonl {SOLVE_FAST} --top_p 1.5"),
        Case(s, "--top_k -3", f"--model tiny-model --output o3.jsonl {SOLVE_FAST} --top_k -3"),
        Case(s, "--num_samples 0", f"--model tiny-model --output o4.jsonl {SOLVE_FAST} --num_samples 0"),
        Case(s, "--max_new_tokens 0", f"--model tiny-model --output o5.jsonl {SOLVE_FAST} --max_new_tokens 0"),
        Case(s, "--batch_size 0", f"--model tiny-model --output o6.jsonl {SOLVE_FAST} --batch_size 0"),
        Case(s, "--limit 0", "--model tiny-model --output o7.jsonl --benchmark ft06 --limit 0"),
        Case(
            s, "output under a file, not a directory", f"--model tiny-model --output instance.txt/o.jsonl {SOLVE_FAST}"
        ),
        Case(s, "junk line between jobs", "--instance trunc.txt --method MOPNR --output o8.json"),
        Case(s, "JSON duration 3x2^62", "--instance huge.json --method MOPNR --output o9.json"),
        Case(s, "JSON duration 1e400", "--instance infinite.json --method cpsat --output o10.json"),
        # evaluate
        Case(e, "no --results", ""),
        Case(e, "missing results file", "--results missing.jsonl"),
        Case(e, "empty results file", "--results empty.jsonl"),
        Case(e, "results not JSON", "--results results_garbage.jsonl"),
        Case(e, "results with wrong fields", "--results results_wrong_fields.jsonl"),
        Case(e, "a data file given as results", "--results data.jsonl"),
        Case(e, "--labels count mismatch", "--results data.jsonl --labels a b"),
        Case(e, "unknown rule", "--results data.jsonl --rules nosuch"),
        # gantt
        Case(ga, "no arguments", "--output g.png"),
        Case(ga, "missing instance file", "--instance missing.txt --solution solution.txt --output g.png"),
        Case(ga, "prose solution", "--instance instance.txt --solution garbage.txt --output g.png"),
        Case(ga, "--results without --id", "--results data.jsonl --output g.png"),
        Case(ga, "missing results file", "--results missing.jsonl --id x --output g.png"),
        Case(ga, "missing record file", "--record missing.jsonl --output g.png"),
        Case(ga, "--index out of range", "--record data.jsonl --index 99 --output g.png"),
        Case(
            ga,
            "output under a file, not a directory",
            "--instance instance.txt --solution solution.txt --output instance.txt/g.png",
        ),
        Case(ga, "junk line between jobs", "--instance trunc.txt --solution sol0.txt --output g.png"),
        Case(ga, "solve's CSV schedule (draws)", "--instance standard.txt --solution schedule.csv --output g.png", 0),
        # train
        Case(t, "no config, no arguments", ""),
        Case(t, "missing config file", "--config missing.yaml"),
        Case(t, "config is not YAML", "--config bad_yaml.yaml"),
        Case(t, "unknown key in config", "--config unknown_key.yaml"),
        Case(
            t,
            "missing local model path",
            f"--model_name_or_path ./missing-model --dataset_name data.jsonl --output_dir run-a {TRAIN_FAST}",
        ),
        Case(
            t,
            "missing relative data path",
            f"--model_name_or_path tiny-model --dataset_name data/nope.jsonl --output_dir run-b {TRAIN_FAST}",
        ),
        Case(
            t,
            "empty data file",
            f"--model_name_or_path tiny-model --dataset_name empty.jsonl --output_dir run-c {TRAIN_FAST}",
        ),
        Case(
            t,
            "--learning_rate abc",
            f"--model_name_or_path tiny-model --dataset_name data.jsonl --output_dir run-d --learning_rate abc {TRAIN_FAST}",
        ),
        Case(
            t,
            "--template bogus",
            f"--model_name_or_path tiny-model --dataset_name data.jsonl --output_dir run-e --template bogus {TRAIN_FAST}",
        ),
        # quickstart
        Case(q, "--num_instances 0", "--output_dir qs-a --num_instances 0 --max_steps 1"),
        Case(q, "--num_instances -1", "--output_dir qs-b --num_instances -1 --max_steps 1"),
        Case(q, "--sizes bogus", f"--output_dir qs-c {QUICK_FAST} --sizes bogus"),
        Case(q, "--max_steps 0", "--output_dir qs-d --num_instances 16 --max_steps 0"),
        Case(q, "missing recipe", f"--output_dir qs-e {QUICK_FAST} --recipe missing.yaml"),
        Case(q, "--test_problems -1", "--output_dir qs-f --num_instances 16 --max_steps 1 --test_problems -1"),
        Case(q, "output_dir is a file", f"--output_dir instance.txt {QUICK_FAST}"),
        # push
        Case(p, "no arguments", ""),
        Case(p, "missing run directory", "missing-run --repo_id user/name"),
        Case(p, "directory that is not a run", "not_a_run --repo_id user/name"),
        Case(p, "run directory is a file", "instance.txt --repo_id user/name"),
        Case(p, "invalid repo id", "tiny-model --repo_id 'bad id!!'"),
        # grpo
        Case(gr, "no config, no arguments", ""),
        Case(gr, "missing config file", "--config missing.yaml"),
        Case(
            gr,
            "unknown reward function",
            f"--model_name_or_path tiny-model --dataset_name data.jsonl --output_dir grpo-a --reward_funcs nosuch {TRAIN_FAST}",
        ),
        Case(
            gr,
            "missing local model path",
            f"--model_name_or_path ./missing-model --dataset_name data.jsonl --output_dir grpo-b {TRAIN_FAST}",
        ),
        Case(
            gr,
            "missing relative data path",
            f"--model_name_or_path tiny-model --dataset_name data/nope.jsonl --output_dir grpo-c {TRAIN_FAST}",
        ),
        Case(
            gr,
            "unknown benchmark",
            f"--model_name_or_path tiny-model --benchmarks nosuch --output_dir grpo-d {TRAIN_FAST}",
        ),
        Case(
            gr,
            "--generated_num_instances 0",
            f"--model_name_or_path tiny-model --generated_num_instances 0 --output_dir grpo-e {TRAIN_FAST}",
        ),
    ]


# -------------------------------------------------------------------------------------------------------- run


@dataclass
class Outcome:
    case: Case
    status: int | None  # None: timed out
    traceback: bool
    last_line: str

    @property
    def one_line(self) -> bool:
        return not self.traceback and self.last_line.startswith("jssp-sft") and "error" in self.last_line

    seconds: float


def run_case(case: Case, root: Path, timeout: int) -> Outcome:
    argv = [JSSP_SFT] if case.command == "(top level)" else [JSSP_SFT, case.command]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [*argv, *case.args],
            cwd=root,
            env=env,
            input=case.stdin or "",
            capture_output=True,
            text=True,
            timeout=timeout,
            errors="replace",
        )
    except subprocess.TimeoutExpired as err:
        stderr = err.stderr.decode(errors="replace") if isinstance(err.stderr, bytes) else err.stderr or ""
        return Outcome(case, None, TRACEBACK in stderr, "(timed out)", time.perf_counter() - start)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return Outcome(
        case, done.returncode, TRACEBACK in done.stderr, lines[-1][:150] if lines else "", time.perf_counter() - start
    )


# ---------------------------------------------------------------------------------------------------- service


@dataclass
class ServiceOutcome:
    name: str
    expected: int
    status: int | None  # None: no answer (the connection was lost)
    connection_kept: bool


def run_service_cases(root: Path, timeout: int) -> list[ServiceOutcome]:
    """tests/test_serve.py's bad requests against ``jssp-sft serve`` (its server's limits), on one keep-alive
    connection, each followed by ``GET /health`` on the same connection."""
    sys.path.insert(0, str(TESTS))
    from test_serve import BAD_REQUESTS, exchange, free_port

    port = free_port()
    command = [JSSP_SFT, "serve", "--model", "tiny-model", "--port", str(port), "--log_level", "warning"]
    command += ["--max_jobs", "12", "--max_machines", "10", "--max_samples", "64", "--max_body_bytes", "20000"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    log = (root / "serve.log").open("w")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    outcomes = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    break
            except OSError:
                time.sleep(0.25)
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        reader = sock.makefile("rb")
        for name, kwargs, expected, _ in BAD_REQUESTS:
            body = kwargs["content"] if "content" in kwargs else json.dumps(kwargs["json"]).encode()
            try:
                status, headers, _ = exchange(sock, reader, "POST", "/v1/solve", body)
                kept = headers.get("connection") != "close" and exchange(sock, reader, "GET", "/health")[0] == 200
            except OSError:
                status, kept = None, False
            outcomes.append(ServiceOutcome(name, expected, status, kept))
            if not kept:  # a refused body the server did not read (413) ends the connection by design: open another
                sock.close()
                sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
                reader = sock.makefile("rb")
        sock.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    tracebacks = (root / "serve.log").read_text().count(TRACEBACK)
    outcomes.append(ServiceOutcome(f"(server log: {tracebacks} tracebacks)", 0, 0 if not tracebacks else 500, True))
    return outcomes


def print_service(outcomes: list[ServiceOutcome], verbose: bool) -> None:
    if verbose:
        for o in outcomes:
            print(
                f"serve        {o.name:40} status {o.status} (want {o.expected}) connection kept {o.connection_kept}"
            )
        print()
    cases = [o for o in outcomes if not o.name.startswith("(")]
    lost = [o for o in cases if not o.connection_kept and o.expected != 413]
    print(
        f"serve: {len(cases)} bad requests, {sum(o.status == 500 for o in outcomes)} answers of 500, "
        f"{sum(o.status == o.expected for o in cases)} with the documented status, {len(lost)} connections lost "
        f"(besides the 413s, refused unread), {outcomes[-1].name.strip('()')}"
    )


def main() -> None:
    (args,) = HfArgumentParser(BenchArguments).parse_args_into_dataclasses()
    selected = cases()
    wanted = set(args.only.split(",")) if args.only else None
    if wanted:
        selected = [c for c in selected if c.command in wanted]
    with tempfile.TemporaryDirectory(prefix="jssp-bad-input-") as tmp:
        root = Path(tmp)
        make_fixtures(root)
        with ThreadPoolExecutor(args.jobs) as pool:
            outcomes = list(pool.map(lambda c: run_case(c, root, args.timeout), selected))
        service = run_service_cases(root, args.timeout) if wanted is None or "serve" in wanted else None

    by_command: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_command[outcome.case.command].append(outcome)
    if args.verbose:
        for outcome in outcomes:
            kind = "TRACEBACK" if outcome.traceback else "clean"
            print(
                f"{outcome.case.command:12} {outcome.case.label:40} exit {outcome.status} (want "
                f"{outcome.case.expected}) {kind:9} {outcome.seconds:5.1f}s | {outcome.last_line}"
            )
        print()
    print(f"{'command':12} {'cases':>5} {'traceback':>9} {'one-line':>8} {'clean':>5} {'status ok':>9}  statuses seen")
    for command, group in [*by_command.items(), ("total", outcomes)]:
        statuses = "" if command == "total" else ", ".join(sorted({str(o.status) for o in group}))
        print(
            f"{command:12} {len(group):5d} {sum(o.traceback for o in group):9d} {sum(o.one_line for o in group):8d} "
            f"{sum(not o.traceback for o in group):5d} {sum(o.status == o.case.expected for o in group):9d}  {statuses}"
        )
    if service is not None:
        print()
        print_service(service, args.verbose)


if __name__ == "__main__":
    main()
