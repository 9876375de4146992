"""The CPU image (``Dockerfile``) built, run and called from outside: ``/health`` and a verified ``/v1/solve``.

No image registry is reachable from the project's machines, so the base image is made here: a Debian root built
with debootstrap (python3 and its venv module) carrying a wheelhouse of the package's dependencies (downloaded by
this interpreter's pip from the configured index: torch as installed here), imported with ``docker/podman import``.
The image is then built as a user would (``BASE_IMAGE`` and ``PIP_ARGS`` as build arguments), started with the
tiny model as a read-only volume, and called over a published port. Skipped, with the reason, where no container
engine works or debootstrap is missing. Slow: the first run takes many minutes (debootstrap, wheels, the build).

Sandboxed kernels (such as the project's machines) refuse crun's rlimits and its cgroup setup; the engine is then
asked to use runc with lowered rlimits (``ENGINE_FLAGS``), found by trying a container before the build.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jssp_sft import Instance, format_instance
from jssp_sft.core.schedule import Operation, Schedule
from jssp_sft.core.verifier import verify


pytestmark = pytest.mark.slow
httpx = pytest.importorskip("httpx", reason='the serve extra is not installed: pip install "jssp-sft[serve]"')

REPO = Path(__file__).resolve().parents[1]
BASE_TAG = "localhost/jssp-sft-test-base:bookworm"
IMAGE_TAG = "localhost/jssp-sft:test-cpu"
MIRROR = os.environ.get("JSSP_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# Flags tried in turn for `run` and `build` until a container starts (see the module docstring).
ENGINE_FLAGS = ([], ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"])


def run(*command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def find_engine() -> str:
    """``docker`` with a running engine, else ``podman``; skips the test with the reason when neither works."""
    reasons = []
    for engine in ("docker", "podman"):
        if shutil.which(engine) is None:
            reasons.append(f"{engine}: not installed")
            continue
        info = run(engine, "info", timeout=120)
        if info.returncode == 0:
            return engine
        reasons.append(f"{engine}: `{engine} info` failed ({(info.stderr or info.stdout).strip().splitlines()[-1:]})")
    pytest.skip("no container engine to build the image with: " + "; ".join(reasons))


def make_base_image(engine: str, workdir: Path) -> None:
    """A Debian bookworm root (debootstrap) with python3-venv and a wheelhouse at /wheels, imported as BASE_TAG."""
    if run(engine, "image", "exists" if engine == "podman" else "inspect", BASE_TAG).returncode == 0:
        return
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (apt-get install debootstrap): it makes the base image here")
    root = workdir / "rootfs"
    result = run(
        "debootstrap",
        "--variant=minbase",
        "--include=python3,python3-venv",
        "bookworm",
        str(root),
        MIRROR,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    torch = f"torch=={importlib.metadata.version('torch')}"
    result = run(
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "-d",
        str(root / "wheels"),
        f"{REPO}[serve,solver]",
        torch,
        "setuptools>=69",
        "wheel",
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    result = subprocess.run([engine, "import", "-", BASE_TAG], stdin=tar.stdout, capture_output=True, text=True)
    tar.wait()
    assert result.returncode == 0, result.stderr


def working_flags(engine: str) -> list[str]:
    for flags in ENGINE_FLAGS:
        if run(engine, "run", "--rm", *flags, BASE_TAG, "python3", "-c", "pass", timeout=300).returncode == 0:
            return flags
    pytest.skip(f"{engine} cannot start a container here, even with {ENGINE_FLAGS[-1]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cpu_image_serves_verified_schedules(tiny_model_dir, tmp_path):
    engine = find_engine()
    make_base_image(engine, tmp_path)
    flags = working_flags(engine)
    build = [
        engine,
        "build",
        *flags,
        "-f",
        "Dockerfile",
        "--build-arg",
        f"BASE_IMAGE={BASE_TAG}",
        "--build-arg",
        "PIP_ARGS=--no-index --find-links /wheels",
        "-t",
        IMAGE_TAG,
        ".",
    ]
    if engine == "podman":
        build.insert(2, "--format=docker")  # keeps the HEALTHCHECK (the OCI format has none)
    result = run(*build, cwd=REPO, timeout=3600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    image = json.loads(run(engine, "image", "inspect", IMAGE_TAG).stdout)[0]
    assert image["Config"]["User"] == "jssp" and image["Config"]["Entrypoint"] == ["jssp-sft"]
    healthcheck = image["Config"].get("Healthcheck") or image.get("Healthcheck")  # where docker, podman keep it
    assert "/health" in " ".join(healthcheck["Test"])

    model = tmp_path / "model"  # a copy the container's user may read (pytest's temporary folders are private)
    shutil.copytree(tiny_model_dir, model)
    for path in [model, *model.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    tmp_path.chmod(0o755)
    port = free_port()
    name = f"jssp-sft-test-{port}"
    started = run(
        engine,
        "run",
        "-d",
        "--name",
        name,
        *flags,
        "-p",
        f"127.0.0.1:{port}:8000",
        "-v",
        f"{model}:/model:ro",
        IMAGE_TAG,
    )
    assert started.returncode == 0, started.stderr
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while True:
            try:
                health = httpx.get(f"{url}/health", timeout=3)
                if health.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, run(engine, "logs", name).stdout[-3000:]
            time.sleep(1)
        assert health.json()["model_loaded"] is True
        instance = Instance.from_arrays(
            [[0, 1, 2], [2, 0, 1], [1, 2, 0], [0, 2, 1]], [[5, 3, 8], [2, 7, 4], [6, 1, 3], [4, 4, 2]]
        )
        body = {"instance": format_instance(instance), "num_samples": 4, "compare": True}
        answer = httpx.post(f"{url}/v1/solve", json=body, timeout=300).json()
        ops = [
            Operation(o["job"], o["operation"], o["machine"], o["start"], o["duration"], o["end"])
            for o in answer["schedule"]["operations"]
        ]
        report = verify(instance, Schedule(tuple(ops)))
        assert report.feasible and answer["makespan"] == report.makespan
        assert httpx.get(f"{url}/v1/info").json()["model"] == "/model"
        whoami = run(engine, "exec", name, "id", "-un")
        assert whoami.stdout.strip() == "jssp"
    finally:
        run(engine, "rm", "-f", name, timeout=120)
