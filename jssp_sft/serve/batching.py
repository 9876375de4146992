"""Gather concurrent requests into shared generation calls: a short window, a largest batch, answers to their callers.

The first request to arrive opens a window that stays open while requests keep coming: it closes once none has
arrived for ``window_s``, at ``max_batch`` requests, or ``MAX_WAIT_WINDOWS`` windows after the first (so that a burst
of clients whose requests take a while to parse still shares one call, and a steady stream cannot hold it forever). Requests that must share sampling settings (``key``: samples, decoding, temperature, seed) go through one
call to ``solve(items, overrides)``, which runs on one worker thread (a model answers one batch at a time); each
request's future gets its own result. A request cancelled or timed out before its batch starts is never generated.
While a batch runs, new requests queue and form the next one. A full queue refuses new requests at once
(``QueueFull``: the service answers 503 with Retry-After).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any


logger = logging.getLogger(__name__)


# The longest a batch waits for more requests, in windows after its first request.
MAX_WAIT_WINDOWS = 4


class QueueFull(RuntimeError):
    """The batching queue holds ``max_queue`` requests already."""


@dataclass
class _Pending:
    item: Any
    key: Hashable
    overrides: dict
    future: asyncio.Future = field(repr=False)


class Batcher:
    """An asyncio front to a blocking batch function; ``submit`` returns the one result of its item."""

    def __init__(
        self,
        solve: Callable[[Sequence[Any], dict], Sequence[Any]],
        window_s: float = 0.02,
        max_batch: int = 16,
        max_queue: int = 64,
        on_batch: Callable[[int], None] | None = None,
    ):
        self.solve = solve
        self.window_s = window_s
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.on_batch = on_batch
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jssp-generate")

    @property
    def depth(self) -> int:
        """Requests waiting (not yet in a running batch)."""
        return self._queue.qsize() if self._queue is not None else 0

    def start(self) -> None:
        if self._task is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="jssp-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def submit(self, item: Any, key: Hashable, overrides: dict) -> Any:
        """Queue ``item`` and wait for its result (``solve``'s exception, if it raised, is raised here)."""
        if self._queue is None:
            raise RuntimeError("the batcher is not started")
        if self._queue.qsize() >= self.max_queue:
            raise QueueFull(f"{self._queue.qsize()} requests are waiting for the model (at most {self.max_queue})")
        pending = _Pending(item, key, overrides, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(pending)
        return await pending.future

    async def _gather(self) -> list[_Pending]:
        first = await self._queue.get()
        batch = [first]
        loop = asyncio.get_running_loop()
        last_call = loop.time() + MAX_WAIT_WINDOWS * self.window_s
        while len(batch) < self.max_batch:
            remaining = min(self.window_s, last_call - loop.time())
            try:
                if remaining <= 0:
                    batch.append(self._queue.get_nowait())
                else:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except (TimeoutError, asyncio.QueueEmpty):
                break
        # Requests already queued when the window closed join too (a loop busy parsing requests wakes late).
        while len(batch) < self.max_batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [p for p in await self._gather() if not p.future.done()]  # skip the cancelled and timed out
            groups: dict[Hashable, list[_Pending]] = {}
            for pending in batch:
                groups.setdefault(pending.key, []).append(pending)
            for group in groups.values():
                group = [p for p in group if not p.future.done()]
                if not group:
                    continue
                if self.on_batch is not None:
                    self.on_batch(len(group))
                try:
                    results = await loop.run_in_executor(
                        self._executor, self.solve, [p.item for p in group], group[0].overrides
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as err:  # noqa: BLE001 - one failed batch answers its callers, the loop goes on
                    logger.exception("a batch of %d failed", len(group))
                    for pending in group:
                        if not pending.future.done():
                            pending.future.set_exception(err)
                    continue
                for pending, result in zip(group, results, strict=True):
                    if not pending.future.done():
                        pending.future.set_result(result)
