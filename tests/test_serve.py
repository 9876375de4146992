"""``jssp-sft serve`` as a client sees it: a real server process on a free port, the tiny model, real HTTP (httpx).

One server with the tiny model (random weights: guaranteed decoding still makes every answer feasible) for the
solve round trip, batching, jobs and bad input; one without a model and with a queue of one, for overload and
timeouts (CP-SAT on an instance it cannot close quickly keeps a request busy for a known time).
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from jssp_sft import Instance, format_instance
from jssp_sft.core.formats import schedule_to_dict, write_instance
from jssp_sft.core.schedule import Operation, Schedule
from jssp_sft.core.verifier import verify
from jssp_sft.solvers.controls import best_dispatching_rule, random_control
from jssp_sft.solvers.dispatching import dispatching_rule


httpx = pytest.importorskip("httpx", reason='the serve extra is not installed: pip install "jssp-sft[serve]"')
pytestmark = pytest.mark.xdist_group("serve")  # one worker starts each server once


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(log_path: Path, *flags: str, timeout: float = 180.0):
    """``jssp-sft serve`` in a subprocess on a free port; returns ``(process, base_url)`` once /health answers."""
    port = free_port()
    command = [sys.executable, "-m", "jssp_sft.cli.main", "serve", "--port", str(port), "--log_level", "warning"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    log = log_path.open("w")
    process = subprocess.Popen([*command, *flags], stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    process.kill()
    raise RuntimeError(f"the server did not answer /health within {timeout} s:\n{log_path.read_text()[-3000:]}")


def stop_server(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def server(tiny_model_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "server.log"
    process, url = start_server(
        log,
        "--model",
        str(tiny_model_dir),
        "--max_jobs",
        "12",
        "--max_machines",
        "10",
        "--max_samples",
        "64",
        "--max_body_bytes",
        "20000",
        "--batch_window_ms",
        "100",
        "--max_batch",
        "16",
        "--max_queue",
        "64",
    )
    yield url
    stop_server(process)


@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    """No model, one request at a time: the overload and timeout answers."""
    log = tmp_path_factory.mktemp("serve-small") / "server.log"
    process, url = start_server(log, "--max_queue", "1", "--max_jobs", "20", "--max_machines", "20")
    yield url
    stop_server(process)


def make_instance(seed: int, num_jobs: int = 3, num_machines: int = 3) -> Instance:
    rng = random.Random(seed)
    jobs = [[(m, rng.randint(1, 20)) for m in rng.sample(range(num_machines), num_machines)] for _ in range(num_jobs)]
    return Instance.from_arrays([[m for m, _ in job] for job in jobs], [[d for _, d in job] for job in jobs])


def schedule_from_json(data: dict) -> Schedule:
    ops = [
        Operation(o["job"], o["operation"], o["machine"], o["start"], o["duration"], o["end"])
        for o in data["operations"]
    ]
    return Schedule(tuple(ops))


def metric(url: str, name: str) -> float:
    """A counter's or histogram count's value, summed over labels, read from /metrics as a scraper would."""
    text = httpx.get(f"{url}/metrics").text
    values = [float(v) for v in re.findall(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)]
    assert values, f"{name} is not in /metrics"
    return sum(values)


def test_solve_round_trip_is_verified_feasible(server):
    instance = make_instance(1, 4, 3)
    body = {"instance": format_instance(instance), "method": "model", "num_samples": 4, "compare": True, "seed": 3}
    response = httpx.post(f"{server}/v1/solve", json=body, timeout=120)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["feasible"] is True and answer["method"] == "model"
    schedule = schedule_from_json(answer["schedule"])
    report = verify(instance, schedule)
    assert report.feasible, report.violations
    assert answer["makespan"] == report.makespan == schedule.makespan == answer["schedule"]["makespan"]
    assert answer["schedule"] == schedule_to_dict(instance, schedule)  # the shape of `solve --output x.json`
    assert answer["details"]["num_samples"] == 4 and answer["details"]["feasible_samples"] == 4  # guaranteed decoding
    control = random_control(instance, num_samples=4, seed=3)
    rule_name, rule_schedule = best_dispatching_rule(instance)
    random_row, rule_row = answer["comparison"]
    assert random_row == {
        "name": "random_control",
        "makespan": control.makespan,
        "num_samples": 4,
        "lift": pytest.approx((control.makespan - report.makespan) / control.makespan),
    }
    assert rule_row["name"] == f"best_rule: {rule_name}" and rule_row["makespan"] == rule_schedule.makespan
    assert {"parse_s", "model_s", "solve_s", "total_s"} <= set(answer["timings"])


def test_other_methods_and_formats(server):
    instance = make_instance(2, 3, 3)
    as_json = {"jobs": [[[m, d] for m, d in job] for job in instance.jobs]}
    cpsat = httpx.post(f"{server}/v1/solve", json={"instance": as_json, "method": "cpsat"}, timeout=60).json()
    assert cpsat["feasible"] and cpsat["details"]["status"] == "OPTIMAL"
    assert cpsat["makespan"] == cpsat["details"]["lower_bound"]
    assert verify(instance, schedule_from_json(cpsat["schedule"])).makespan == cpsat["makespan"]
    text = write_instance(instance, "taillard")
    mwkr = httpx.post(f"{server}/v1/solve", json={"instance": text, "method": "MWKR", "rule_variant": "non_delay"})
    assert mwkr.status_code == 200, mwkr.text
    assert mwkr.json()["makespan"] == dispatching_rule(instance, "MWKR", "non_delay").makespan
    assert cpsat["makespan"] <= mwkr.json()["makespan"]


def test_concurrent_requests_share_generation_calls(server):
    instances = [make_instance(100 + i, 2 + i % 4, 2 + i % 3) for i in range(16)]
    calls_before = metric(server, "jssp_generation_calls_total")
    batches_before = metric(server, "jssp_batch_requests_count")

    def ask(instance):
        body = {"instance": format_instance(instance), "num_samples": 2, "decoding": "guaranteed"}
        return httpx.post(f"{server}/v1/solve", json=body, timeout=300)

    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(ask, instances))
    for instance, response in zip(instances, responses):
        assert response.status_code == 200, response.text
        answer = response.json()
        assert (answer["num_jobs"], answer["num_machines"]) == (instance.num_jobs, instance.num_machines)
        report = verify(instance, schedule_from_json(answer["schedule"]))  # its own instance: the right caller
        assert report.feasible and answer["makespan"] == report.makespan
    calls = metric(server, "jssp_generation_calls_total") - calls_before
    batches = metric(server, "jssp_batch_requests_count") - batches_before
    assert 1 <= calls < len(instances), f"{calls} generation calls for {len(instances)} requests"
    assert calls == batches


JSON_BODY = {"content-type": "application/json"}
TRUNC = "J0:\nM0:5 M1:3\n# job 1 follows\nJ1:\nM1:4 M0:2\n"  # issue 20: a junk line between jobs
BAD_REQUESTS = [
    # (name, request kwargs, status, text the message must hold)
    ("malformed text", {"json": {"instance": "J0:\nM0:3 M1:x\n"}}, 422, "line 2"),
    ("malformed json", {"json": {"instance": {"jobs": [[[0, 3], [1, -2]]]}}}, 422, "job 0 operation 1 duration"),
    ("unreadable", {"json": {"instance": "hello"}}, 422, "cannot tell the format"),
    ("unknown format", {"json": {"instance": "J0:\nM0:3\n", "format": "yaml"}}, 422, "unknown instance format"),
    ("oversize instance", {"json": {"instance": format_instance(make_instance(5, 13, 3))}}, 422, "13 jobs x 3"),
    ("too many samples", {"json": {"instance": "J0:\nM0:3\n", "num_samples": 65}}, 422, "num_samples"),
    ("time limit", {"json": {"instance": "J0:\nM0:3\n", "method": "cpsat", "time_limit": 61}}, 422, "time_limit: 61"),
    ("unknown method", {"json": {"instance": "J0:\nM0:3\n", "method": "genetic"}}, 400, "unknown method 'genetic'"),
    (
        "unknown variant",
        {"json": {"instance": "J0:\nM0:3\n", "method": "spt", "rule_variant": "x"}},
        400,
        "rule_variant",
    ),
    ("bad decoding", {"json": {"instance": "J0:\nM0:3\n", "decoding": "beam"}}, 422, "decoding"),
    ("unknown field", {"json": {"instance": "J0:\nM0:3\n", "samples": 3}}, 422, "samples"),
    ("not json", {"content": b"{not json", "headers": JSON_BODY}, 422, "JSON"),
    ("oversize body", {"json": {"instance": "J0:\n" + "M0:3 " * 5000}}, 413, "larger than 20000 bytes"),
    # issue 20: every non-finite, out-of-range or huge number is a 422 naming its field, never a 500
    (
        "temperature NaN",
        {"content": b'{"instance": "J0: M0:3", "temperature": NaN}', "headers": JSON_BODY},
        422,
        "finite",
    ),
    (
        "timeout Infinity",
        {"content": b'{"instance": "J0: M0:3", "timeout": Infinity}', "headers": JSON_BODY},
        422,
        "finite",
    ),
    (
        "time_limit -Infinity",
        {"content": b'{"instance": "J0: M0:3", "method": "cpsat", "time_limit": -Infinity}', "headers": JSON_BODY},
        422,
        "time_limit",
    ),
    ("body NaN", {"content": b"NaN", "headers": JSON_BODY}, 422, "NaN"),
    ("seed 2^64", {"json": {"instance": "J0:\nM0:3\n", "seed": 2**64}}, 422, "seed"),
    ("negative seed", {"json": {"instance": "J0:\nM0:3\n", "method": "spt", "seed": -1}}, 422, "seed"),
    ("temperature 1e308", {"json": {"instance": "J0:\nM0:3\n", "temperature": 1e308}}, 422, "temperature"),
    (
        "duration Infinity",
        {"content": b'{"instance": [[[0, Infinity]]], "method": "cpsat"}', "headers": JSON_BODY},
        422,
        "job 0 operation 0 duration: expected a whole number >= 0, got Infinity",
    ),
    (
        "duration 1e400",
        {"content": b'{"instance": [[[0, 1e400]]], "method": "cpsat"}', "headers": JSON_BODY},
        422,
        "job 0 operation 0 duration",
    ),
    (
        "duration of 16 digits",
        {"json": {"instance": [[[0, 10**15]]], "method": "cpsat"}},
        422,
        "a number longer than 15 digits",
    ),
    (
        "duration 3x2^62",
        {"json": {"instance": {"jobs": [[[0, 3 * 2**62]], [[0, 1]]]}, "method": "cpsat"}},
        422,
        "a number longer than 15 digits",
    ),
    (
        "durations over the limit",
        {"json": {"instance": [[[0, 10**15 - 1]], [[0, 10**15 - 1]]], "method": "spt"}},
        422,
        "the durations add up to",
    ),
    (
        "a 5000-digit number",
        {"content": b'{"instance": [[[0, ' + b"9" * 5000 + b"]]]}", "headers": JSON_BODY},
        422,
        "does not read as JSON",
    ),
    (
        "nested too deeply",
        {"content": b'{"instance": ' + b"[" * 400 + b"]" * 400 + b', "method": "cpsat"}', "headers": JSON_BODY},
        422,
        "nested too deeply",
    ),
    ("digit of another script", {"json": {"instance": "J0:\nM0:3 M1:\u0662\n"}}, 422, "ASCII digits"),
    ("junk line between jobs", {"json": {"instance": TRUNC, "method": "spt"}}, 422, "line 3"),
]


@pytest.mark.parametrize("name,kwargs,status,message", BAD_REQUESTS, ids=[r[0] for r in BAD_REQUESTS])
def test_bad_requests_get_clear_answers(server, name, kwargs, status, message):
    response = httpx.post(f"{server}/v1/solve", timeout=30, **kwargs)
    assert response.status_code == status, response.text
    assert message in json.dumps(response.json()), response.text


def test_bad_requests_leave_the_server_healthy(server):
    errors_before = metric(server, "jssp_errors_total")

    def bad(case):
        _, kwargs, status, _ = case
        return httpx.post(f"{server}/v1/solve", timeout=60, **kwargs).status_code == status

    def good(seed):
        instance = make_instance(seed)
        response = httpx.post(f"{server}/v1/solve", json={"instance": format_instance(instance)}, timeout=120)
        return (
            response.status_code == 200 and verify(instance, schedule_from_json(response.json()["schedule"])).feasible
        )

    with ThreadPoolExecutor(8) as pool:  # bad and good requests at once: the good ones are not disturbed
        bad_results = pool.map(bad, BAD_REQUESTS * 2)
        good_results = pool.map(good, range(6))
        assert all(bad_results) and all(good_results)
    assert metric(server, "jssp_errors_total") - errors_before == len(BAD_REQUESTS) * 2
    assert httpx.get(f"{server}/health").json()["status"] == "ok"
    assert httpx.post(f"{server}/v1/solve", json={"instance": "J0:\nM0:3 M1:2\n"}, timeout=60).json()["feasible"]


def exchange(sock, reader, method: str, path: str, body: bytes = b"") -> tuple[int, dict, bytes]:
    """One HTTP/1.1 request on an open (keep-alive) socket: ``(status, headers, body)`` of its answer."""
    head = f"{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    sock.sendall(head.encode() + b"\r\n\r\n" + body)
    status = int(reader.readline().split()[1])
    headers = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, reader.read(int(headers.get("content-length", 0)))


def test_refusals_keep_the_keep_alive_connection(server):
    """Every bad request, then a health check, on one connection: each refusal is answered and the connection lives
    on (a 500 that escaped the app would make uvicorn drop it)."""
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=120) as sock:
        reader = sock.makefile("rb")
        for name, kwargs, status, _ in BAD_REQUESTS:
            if name == "oversize body":  # refused unread by its Content-Length: the server must close to skip it
                continue
            body = kwargs["content"] if "content" in kwargs else json.dumps(kwargs["json"]).encode()
            got, headers, _ = exchange(sock, reader, "POST", "/v1/solve", body)
            assert (got, headers.get("connection")) == (status, None), name
            got, _, payload = exchange(sock, reader, "GET", "/health")
            assert got == 200 and json.loads(payload)["status"] == "ok", name


def test_a_bug_answers_500_and_the_connection_goes_on(monkeypatch):
    """A request that hits a bug gets a 500 made inside the app; the same connection then answers the next one."""
    import threading

    import uvicorn

    from jssp_sft.serve.app import create_app
    from jssp_sft.serve.config import ServeArguments
    from jssp_sft.serve.service import SchedulingService

    args = ServeArguments(port=free_port(), log_level="critical")
    service = SchedulingService.from_arguments(args)

    async def broken(params, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "solve", broken)
    server = uvicorn.Server(uvicorn.Config(create_app(args, service), port=args.port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        with socket.create_connection(("127.0.0.1", args.port), timeout=60) as sock:
            reader = sock.makefile("rb")
            body = json.dumps({"instance": "J0:\nM0:3\n", "method": "spt"}).encode()
            status, headers, payload = exchange(sock, reader, "POST", "/v1/solve", body)
            assert status == 500 and "internal error: RuntimeError: a bug" in payload.decode()
            assert headers.get("connection") is None
            status, _, payload = exchange(sock, reader, "GET", "/health")
            assert status == 200 and json.loads(payload)["status"] == "ok"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_jobs_run_report_best_and_cancel(server):
    instance = make_instance(7, 4, 4)
    created = httpx.post(f"{server}/v1/jobs", json={"instance": format_instance(instance), "num_samples": 8})
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    assert created.json()["url"].endswith(f"/v1/jobs/{job_id}")
    deadline = time.monotonic() + 120
    while (job := httpx.get(f"{server}/v1/jobs/{job_id}").json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    assert job["status"] == "done", job
    result = job["result"]
    assert result["details"]["num_samples"] == 8 and result["feasible"]
    assert job["best"]["makespan"] == result["makespan"]
    assert verify(instance, schedule_from_json(job["best"]["schedule"])).makespan == result["makespan"]

    # a long job (64 samples of a 10x10 instance, in rounds) is cancelled: no more generation after its round
    big = make_instance(8, 10, 10)
    job_id = httpx.post(f"{server}/v1/jobs", json={"instance": format_instance(big), "num_samples": 64}).json()["id"]
    time.sleep(0.5)
    cancelled = httpx.delete(f"{server}/v1/jobs/{job_id}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    calls = metric(server, "jssp_generation_calls_total")
    time.sleep(3)
    assert metric(server, "jssp_generation_calls_total") - calls <= 1  # at most the round already running
    assert httpx.get(f"{server}/v1/jobs/{job_id}").json()["status"] == "cancelled"
    missing = httpx.get(f"{server}/v1/jobs/nope")
    assert missing.status_code == 404 and "no job 'nope'" in missing.json()["detail"]


def test_info_openapi_and_metrics(server, tiny_model_dir):
    info = httpx.get(f"{server}/v1/info").json()
    assert info["model"] == str(tiny_model_dir) and info["backend"] == "transformers"
    assert info["methods"] == ["model", "cpsat", "random", "spt", "mwkr", "mopnr", "fdd/mwkr"]
    assert info["limits"]["max_jobs"] == 12 and info["limits"]["max_body_bytes"] == 20000
    schema = httpx.get(f"{server}/openapi.json").json()
    assert {"/v1/solve", "/v1/jobs", "/v1/jobs/{job_id}", "/health", "/v1/info", "/metrics"} <= set(schema["paths"])
    assert "SolveRequest" in schema["components"]["schemas"]
    text = httpx.get(f"{server}/metrics").text
    for name in (
        "jssp_requests_total",
        "jssp_request_seconds_bucket",
        "jssp_errors_total",
        "jssp_batch_requests_bucket",
    ):
        assert name in text


def test_overload_and_timeout(small_server):
    big = make_instance(9, 15, 15)  # CP-SAT cannot prove it optimal within a few seconds on one worker
    body = {"instance": format_instance(big), "method": "cpsat", "time_limit": 4}
    with ThreadPoolExecutor(1) as pool:
        busy = pool.submit(httpx.post, f"{small_server}/v1/solve", json=body, timeout=60)
        time.sleep(1.0)
        refused = httpx.post(f"{small_server}/v1/solve", json={"instance": "J0:\nM0:3\n", "method": "spt"})
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] == "1" and "server busy" in refused.json()["detail"]
        assert busy.result().status_code == 200 and busy.result().json()["feasible"]
    model = httpx.post(f"{small_server}/v1/solve", json={"instance": "J0:\nM0:3\n", "method": "model"})
    assert model.status_code == 400 and "runs without a model" in model.json()["detail"]
    slow = httpx.post(f"{small_server}/v1/solve", json={**body, "timeout": 0.5}, timeout=60)
    assert slow.status_code == 504 and "timeout of 0.5 s" in slow.json()["detail"]
    assert httpx.get(f"{small_server}/health").json()["status"] == "ok"
    small = make_instance(10)
    ok = httpx.post(f"{small_server}/v1/solve", json={"instance": format_instance(small), "method": "spt"})
    assert ok.status_code == 200 and ok.json()["makespan"] == dispatching_rule(small, "SPT").makespan


def test_batcher_groups_by_settings_caps_batches_and_survives_a_failing_batch():
    """The batching queue alone, with a plain function as the work: who shares a call, and what a failure reaches."""
    import asyncio

    from jssp_sft.serve.batching import Batcher, QueueFull

    calls = []

    def work(items, overrides):
        calls.append((tuple(items), overrides["scale"]))
        if "boom" in items:
            raise ValueError("bad batch")
        return [item * overrides["scale"] for item in items]

    async def scenario():
        batcher = Batcher(work, window_s=0.05, max_batch=3, max_queue=20)
        batcher.start()

        def ask(item, scale):
            return batcher.submit(item, ("scale", scale), {"scale": scale})

        results = await asyncio.gather(
            *(ask(i, 10) for i in range(5)), ask(100, 2), ask("boom", 1), ask(7, 3), return_exceptions=True
        )
        with pytest.raises(QueueFull):
            small = Batcher(work, max_queue=1)
            small.start()
            first = asyncio.ensure_future(small.submit(1, "k", {"scale": 1}))
            await asyncio.sleep(0)  # the worker may take the first one; fill the queue past one either way
            await asyncio.gather(*(small.submit(i, "k", {"scale": 1}) for i in range(3)))
        await first
        await small.stop()
        after = await ask(4, 10)  # the loop goes on after a failed batch
        await batcher.stop()
        return results, after

    results, after = asyncio.run(scenario())
    assert results[:5] == [0, 10, 20, 30, 40] and results[5] == 200 and results[7] == 21
    assert isinstance(results[6], ValueError) and after == 40
    first_round = [call for call in calls if call[1] == 10][:2]
    assert [len(items) for items, _ in first_round] == [3, 2]  # max_batch caps a call; the rest forms the next
    assert all(len({scale}) == 1 for _, scale in calls)  # one setting per call


def test_job_store_keeps_nothing_on_disk_unless_configured(tmp_path):
    from jssp_sft.serve.jobs import JobStore

    memory = JobStore(max_stored=2)
    jobs = [memory.create("cpsat") for _ in range(2)]
    for job in jobs:
        memory.finish(job, "done", result={"makespan": 1})
    jobs.append(memory.create("cpsat"))  # a third: the oldest finished one is forgotten
    assert memory.get(jobs[0].id) is None and memory.get(jobs[1].id) is not None and memory.get(jobs[2].id) is not None
    assert memory.directory is None and not any(tmp_path.iterdir())

    stored = JobStore(directory=str(tmp_path / "jobs"))
    job = stored.create("model")
    job.offer(30, {"makespan": 30})
    job.offer(35, {"makespan": 35})
    stored.finish(job, "done", result={"makespan": 30})
    reread = JobStore(directory=str(tmp_path / "jobs")).get(job.id)
    assert reread.status == "done" and reread.best["makespan"] == 30 and reread.result == {"makespan": 30}


def test_cli_help_and_a_directory_without_a_model(tmp_path, capsys):
    from jssp_sft.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    assert all(flag in help_text for flag in ("--model", "--backend", "--max_batch", "--max_queue")), help_text
    assert main(["serve", "--model", str(tmp_path)], exit_on_error=True) == 2  # one line, as the console script
    assert f"--model {tmp_path} holds no model" in capsys.readouterr().err
