"""Long solves as jobs: an id at once, then status, the best schedule so far, the final answer; cancel on request.

Jobs live in memory (the oldest finished ones are forgotten beyond ``max_stored``); with ``directory`` set, each
finished job is also written there as ``{id}.json`` and read back on a restart. Nothing is written otherwise.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path


logger = logging.getLogger(__name__)

FINISHED = ("done", "failed", "cancelled")


@dataclass
class Job:
    """One job's state; ``best`` is the best verified schedule so far, ``result`` the final answer."""

    id: str
    method: str
    status: str = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    best: dict | None = None
    result: dict | None = None
    error: str | None = None
    task: asyncio.Task | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        keys = ("id", "method", "status", "created", "started", "finished", "best", "result", "error")
        return {key: getattr(self, key) for key in keys}

    def offer(self, makespan: int, schedule: dict, **facts) -> None:
        """Keep ``schedule`` as the best so far if it beats the current best."""
        if self.best is None or makespan < self.best["makespan"]:
            seconds = round(time.time() - (self.started or self.created), 4)
            self.best = {"makespan": makespan, "schedule": schedule, "seconds": seconds, **facts}


class JobStore:
    """The jobs of one server: created, looked up, finished, cancelled and, past ``max_stored``, forgotten."""

    def __init__(self, max_stored: int = 1000, directory: str | None = None):
        self.max_stored = max_stored
        self.directory = Path(directory) if directory else None
        self._jobs: dict[str, Job] = {}
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            for path in sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime):
                try:
                    data = json.loads(path.read_text())
                    self._jobs[data["id"]] = Job(**data)
                except (ValueError, KeyError, TypeError) as err:
                    logger.warning("%s: not a job file (%s); ignored", path, err)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("queued", "running", *FINISHED), 0)
        for job in self._jobs.values():
            counts[job.status] += 1
        return counts

    def create(self, method: str) -> Job:
        self._forget_old()
        job = Job(id=uuid.uuid4().hex, method=method)
        self._jobs[job.id] = job
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def finish(self, job: Job, status: str, result: dict | None = None, error: str | None = None) -> None:
        if job.status in FINISHED:  # cancelled while it ran: the cancel stands
            return
        job.status, job.result, job.error, job.finished = status, result, error, time.time()
        self._save(job)

    def cancel(self, job: Job) -> None:
        if job.status in FINISHED:
            return
        job.status, job.finished = "cancelled", time.time()
        if job.task is not None:
            job.task.cancel()
        self._save(job)

    def _save(self, job: Job) -> None:
        if self.directory is not None:
            (self.directory / f"{job.id}.json").write_text(json.dumps(job.to_dict()))

    def _forget_old(self) -> None:
        while len(self._jobs) >= self.max_stored:
            finished = [job for job in self._jobs.values() if job.status in FINISHED]
            if not finished:
                break
            oldest = min(finished, key=lambda job: job.finished or job.created)
            del self._jobs[oldest.id]
            if self.directory is not None:
                (self.directory / f"{oldest.id}.json").unlink(missing_ok=True)

    def all_running(self) -> list[Job]:
        return [job for job in self._jobs.values() if job.status not in FINISHED]
