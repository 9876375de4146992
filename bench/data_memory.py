"""Peak memory of loading a big Starjob-shaped ``{"data": [...]}`` JSON file: jssp_sft's streaming reader (ijson's
C backend into Arrow on disk) against ``json.load`` and ``datasets.load_dataset("json", field="data")`` (the naive
paths), each in a fresh process.

    python bench/data_memory.py --size_mb 300

Prints each path's peak RSS (``ru_maxrss``), its wall time, and its ratio to the streaming reader's peak.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser


METHODS = {
    "json.load": "import json\nwith open(PATH) as f:\n    records = json.load(f)['data']\nn = len(records)",
    "datasets.load_dataset(json, field=data)": (
        "import datasets\n"
        "n = len(datasets.load_dataset('json', data_files=PATH, field='data', split='train', cache_dir=CACHE))"
    ),
    "jssp_sft.data.load_records (stream)": (
        "from jssp_sft.data import load_records\nn = len(load_records(PATH, cache_dir=CACHE))"
    ),
}


@dataclass
class BenchArguments:
    size_mb: float = field(default=300.0, metadata={"help": "Size of the synthetic JSON file, in MB."})


# The imports alone, to tell the loader's memory from the libraries'.
BASELINE = "import datasets, jssp_sft.data\nn = 0"


def write_file(path: Path, size_mb: float, seed: int = 0) -> int:
    """A {"data": [...]} file of about ``size_mb`` MB: a pool of distinct records (2x2 to 20x20) repeated."""
    from jssp_sft import Instance, Schedule, to_record

    rng = random.Random(seed)
    pool = []
    for _ in range(300):
        n, m = rng.randint(2, 20), rng.randint(2, 20)
        instance = Instance(
            tuple(tuple((k, rng.randint(5, 500)) for k in rng.sample(range(m), m)) for _ in range(n)), m
        )
        job_end, machine_end, starts = [0] * n, [0] * m, []
        for k in range(m):  # serial round-robin placement: feasible, which is all this needs
            for j in range(n):
                machine, duration = instance.jobs[j][k]
                start = max(job_end[j], machine_end[machine])
                starts.append((j, k, start))
                job_end[j] = machine_end[machine] = start + duration
        pool.append(json.dumps(to_record(instance, Schedule.from_starts(instance, starts).with_declared_makespan())))
    count, written = 0, 0
    with open(path, "w") as f:
        f.write('{"data": [')
        while written < size_mb * 1e6:
            text = (", " if count else "") + pool[count % len(pool)]
            f.write(text)
            written += len(text)
            count += 1
        f.write("]}")
    return count


def measure(code: str, path: Path, cache: Path) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, records) of ``code`` run in a fresh interpreter."""
    script = (
        "import resource, time\nt = time.perf_counter()\n"
        f"PATH, CACHE = {str(path)!r}, {str(cache)!r}\n{code}\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, time.perf_counter() - t, n)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    peak, seconds, n = out.stdout.split()[-3:]
    return float(peak), float(seconds), int(n)


def main() -> None:
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, load average {load:.2f} at start (peak RSS does not depend on it; times do)")
    (args,) = HfArgumentParser(BenchArguments).parse_args_into_dataclasses()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "starjob_like.json"
        start = time.perf_counter()
        count = write_file(path, args.size_mb)
        size = path.stat().st_size / 1e6
        print(f"file: {size:.0f} MB, {count} records (written in {time.perf_counter() - start:.0f} s)")
        base, _, _ = measure(BASELINE, path, Path(tmp) / "cache-base")
        print(f"imports only (datasets, jssp_sft.data): peak RSS {base:.0f} MB")
        results = {
            name: measure(code, path, Path(tmp) / f"cache-{i}") for i, (name, code) in enumerate(METHODS.items())
        }
        ours = results["jssp_sft.data.load_records (stream)"][0]
        for name, (peak, seconds, n) in results.items():
            print(
                f"{name:42s} peak RSS {peak:7.0f} MB ({peak / size:4.1f}x the file, {peak / ours:4.1f}x streaming)"
                f"  {seconds:6.1f} s  {n} records"
            )


if __name__ == "__main__":
    main()
