"""The serving batcher's window: requests that keep arriving share one call, a quiet gap closes the batch, and the
wait is capped (``jssp_sft.serve.batching``)."""

import asyncio

from jssp_sft.serve.batching import MAX_WAIT_WINDOWS, Batcher


def batches_of(arrivals: list[float], window_s: float) -> list[list[int]]:
    """The batches ``Batcher`` forms of requests ``0..n-1`` submitted at ``arrivals`` (seconds after the first)."""
    calls = []

    def work(items, overrides):
        calls.append(list(items))
        return items

    async def scenario():
        batcher = Batcher(work, window_s=window_s, max_batch=100)
        batcher.start()
        loop = asyncio.get_running_loop()
        start = loop.time()

        async def ask(index, at):
            await asyncio.sleep(max(0.0, start + at - loop.time()))
            return await batcher.submit(index, "k", {})

        await asyncio.gather(*(ask(i, at) for i, at in enumerate(arrivals)))
        await batcher.stop()

    asyncio.run(scenario())
    return calls


def test_a_burst_spread_over_more_than_one_window_shares_one_call():
    window = 0.3
    # a request every third of a window: 1.3 windows in all, never a quiet window
    assert batches_of([0.0, 0.1, 0.2, 0.3, 0.4], window) == [[0, 1, 2, 3, 4]]


def test_a_quiet_window_closes_the_batch_and_the_wait_is_capped():
    window = 0.3
    assert batches_of([0.0, 0.1, 0.7], window) == [[0, 1], [2]]  # 0.6 s without a request after the second
    steady = [0.1 * i for i in range(round(2 * MAX_WAIT_WINDOWS * window / 0.1))]  # twice the cap, never quiet
    calls = batches_of(steady, window)
    assert len(calls) >= 2 and sum(calls, []) == list(range(len(steady)))
