"""Serving throughput and latency: ``jssp-sft serve`` under 1 and 16 concurrent clients vs sequential in-process solving.

A tiny model (``jssp_sft.modeling.tiny``, random weights, built in a temporary directory) answers the same random
instances (``--num_requests``, 3 to 6 jobs and machines) with ``--num_samples`` guaranteed-decoding samples each, three
ways, taken in turn ``--repeats`` times so that a change of machine load touches all three alike:

- ``in-process``: one ``JSSPSolver`` in this process, ``solver.solve`` one request after another (the baseline: what a
  Python caller gets without the service);
- ``1 client``: the server (a ``jssp-sft serve`` subprocess on a free port) asked one request at a time over HTTP;
- ``16 clients``: the server asked by 16 threads at once (each request its own HTTP call); the server gathers them
  into shared generation calls (``jssp_generation_calls_total`` in ``/metrics`` is printed).

Every answer is checked feasible with the package's verifier. Prints requests/s and p50/p95 latency of each (the
median over repeats) and the throughput ratio of each server row to the in-process baseline; floor: 16 clients at
least 2x the sequential in-process throughput.

    python bench/serve.py [--num_requests 16] [--num_samples 4] [--repeats 3]
"""

from __future__ import annotations

import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from common import machine_line, parse, random_instances, tiny_solver

from jssp_sft import Instance, format_instance
from jssp_sft.core.schedule import Operation, Schedule
from jssp_sft.core.verifier import verify
from jssp_sft.solve import JSSPSolver


CONCURRENT_FLOOR = 2.0
CONCURRENT_TARGET = 5.0


@dataclass
class BenchArguments:
    num_requests: int = field(default=16, metadata={"help": "Requests (instances) per measurement."})
    num_samples: int = field(default=4, metadata={"help": "Samples per request (guaranteed decoding)."})
    clients: int = field(default=16, metadata={"help": "Concurrent clients of the concurrent row."})
    repeats: int = field(default=3, metadata={"help": "Rounds of the three measurements, taken in turn."})
    seed: int = field(default=0, metadata={"help": "Seed of the instances."})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_dir: str, log_path: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    flags = "--log_level warning --max_batch 16 --batch_window_ms 20 --request_timeout 3600"  # no 504 on busy cores
    command = [
        sys.executable,
        "-m",
        "jssp_sft.cli.main",
        "serve",
        "--model",
        model_dir,
        "--port",
        str(port),
        *flags.split(),
    ]
    process = subprocess.Popen(command, stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}; see {log_path}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.25)
    process.kill()
    raise SystemExit("the server did not start within 150 s")


def check(instance: Instance, answer: dict) -> None:
    ops = [
        Operation(o["job"], o["operation"], o["machine"], o["start"], o["duration"], o["end"])
        for o in answer["schedule"]["operations"]
    ]
    report = verify(instance, Schedule(tuple(ops)))
    if not (report.feasible and report.makespan == answer["makespan"]):
        raise SystemExit(f"an answer did not verify: {report.violations[:1]}")


def in_process(solver: JSSPSolver, instances: list[Instance], args: BenchArguments) -> tuple[float, list[float]]:
    """Seconds in all, and each request's latency, solving one request after another in this process."""
    latencies, started = [], time.perf_counter()
    for instance in instances:
        t = time.perf_counter()
        result = solver.solve(instance, num_samples=args.num_samples, decoding="guaranteed")
        latencies.append(time.perf_counter() - t)
        if result.makespan is None or not verify(instance, result.schedule).feasible:
            raise SystemExit("an in-process answer did not verify")
    return time.perf_counter() - started, latencies


def over_http(url: str, instances: list[Instance], clients: int, args: BenchArguments) -> tuple[float, list[float]]:
    """Seconds in all, and each request's latency, with ``clients`` threads asking the server at once."""
    http = httpx.Client(timeout=600, limits=httpx.Limits(max_connections=clients))

    def ask(instance: Instance) -> float:
        body = {"instance": format_instance(instance), "num_samples": args.num_samples, "decoding": "guaranteed"}
        t = time.perf_counter()
        response = http.post(f"{url}/v1/solve", json=body)
        latency = time.perf_counter() - t
        if response.status_code != 200:
            raise SystemExit(f"the server answered {response.status_code}: {response.text}")
        check(instance, response.json())
        return latency

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(ask, instances))
    elapsed = time.perf_counter() - started
    http.close()
    return elapsed, latencies


def generation_calls(url: str) -> float:
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith("jssp_generation_calls_total "):
            return float(line.split()[1])
    raise SystemExit("jssp_generation_calls_total is not in /metrics")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    args = parse(BenchArguments, argv)
    print(machine_line())
    instances = random_instances(args.num_requests, args.seed)
    with tempfile.TemporaryDirectory() as directory:
        model_dir = f"{directory}/tiny"
        solver = tiny_solver(model_dir)
        process, url = start_server(model_dir, f"{directory}/server.log")
        try:
            in_process(solver, instances[:2], args)  # warm-up of both
            over_http(url, instances[:2], 1, args)
            rows = {"in-process, sequential": [], "server, 1 client": [], f"server, {args.clients} clients": []}
            calls = []
            for _ in range(args.repeats):
                rows["in-process, sequential"].append(in_process(solver, instances, args))
                rows["server, 1 client"].append(over_http(url, instances, 1, args))
                before = generation_calls(url)
                rows[f"server, {args.clients} clients"].append(over_http(url, instances, args.clients, args))
                calls.append(generation_calls(url) - before)
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(
        f"{args.num_requests} requests of {args.num_samples} guaranteed samples (3-6 jobs x 3-6 machines), "
        f"median of {args.repeats} rounds; {machine_line('at the end')}"
    )
    print(f"{'':28s} {'req/s':>8s} {'p50 s':>8s} {'p95 s':>8s} {'x in-process':>13s}")
    baseline = None
    summary = {}
    for name, runs in rows.items():
        rate = statistics.median(len(instances) / seconds for seconds, _ in runs)
        latencies = [latency for _, run in runs for latency in run]
        baseline = baseline or rate
        summary[name] = rate / baseline
        print(
            f"{name:28s} {rate:8.2f} {percentile(latencies, 0.5):8.3f} {percentile(latencies, 0.95):8.3f} "
            f"{rate / baseline:12.2f}x"
        )
    print(
        f"generation calls for {args.num_requests} requests from {args.clients} clients: "
        f"{', '.join(f'{c:.0f}' for c in calls)}"
    )
    ratio = summary[f"server, {args.clients} clients"]
    verdict = "holds" if ratio >= CONCURRENT_FLOOR else "MISSED"
    print(f"floor: {args.clients} clients >= {CONCURRENT_FLOOR}x sequential in-process throughput: {verdict}")
    target = "reached" if ratio >= CONCURRENT_TARGET else "not reached"
    print(f"target (issue 23): {args.clients} clients >= {CONCURRENT_TARGET}x: {target} ({ratio:.2f}x)")
    return 0 if ratio >= CONCURRENT_FLOOR else 1


if __name__ == "__main__":
    sys.exit(main())
