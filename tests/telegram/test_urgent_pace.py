"""The quick exit's calls under Telegram's pace (issue 13): an urgent call waits only for a
429's pause, never for the buckets, and the other calls hold back until it is made. On a
fake clock, so that "within a second of the 429 ending" is exact, not timed."""

from __future__ import annotations

import asyncio

from bots.telegram.pacing import Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_an_urgent_call_goes_when_the_pause_ends_and_before_the_queued_ones(monkeypatch) -> None:
    clock = FakeClock()
    real_sleep = asyncio.sleep
    asked: dict[str, float] = {}
    pause_over = asyncio.Event()

    async def sleep(seconds: float) -> None:  # records how long each task would wait, until the 429 ends
        task = asyncio.current_task()
        asked[task.get_name() if task else "?"] = seconds
        await pause_over.wait()

    monkeypatch.setattr("bots.telegram.pacing.asyncio.sleep", sleep)
    pacer = Pacer(clock=clock)
    pause_over.set()
    for _ in range(40):  # the bot's bucket is empty: a plain call would also wait for it
        await pacer.acquire(1)
    pause_over.clear()
    pacer.pause(2.0)  # a 429 with retry_after 2
    order: list[str] = []

    async def plain(name: str) -> None:
        await pacer.acquire(2)
        order.append(name)

    async def urgent() -> None:
        await pacer.acquire(3, urgent=True)
        order.append("urgent")
        await real_sleep(0)  # the call is being made: the others still wait
        order.append("urgent done")
        pacer.release_urgent()

    waiting = [asyncio.create_task(plain(f"plain {n}"), name=f"plain {n}") for n in range(3)]
    await real_sleep(0)  # they wait for the pause
    exiting = asyncio.create_task(urgent(), name="urgent")  # the quick exit comes during the 429
    await real_sleep(0)
    pause_over.set()  # the 429 ends
    await asyncio.gather(exiting, *waiting)
    assert asked["urgent"] == 2.0  # exactly until the 429 ends, not a moment longer
    assert all(asked[f"plain {n}"] >= 2.0 for n in range(3))  # they too wait for the pause, at least
    assert order[:2] == ["urgent", "urgent done"]  # and it goes first, though queued last
    assert sorted(order[2:]) == ["plain 0", "plain 1", "plain 2"]
    assert pacer.urgent == 0


async def test_an_urgent_call_cancelled_while_waiting_lets_the_others_go() -> None:
    pacer = Pacer()
    pacer.pause(30.0)
    task = asyncio.create_task(pacer.acquire(1, urgent=True))
    await asyncio.sleep(0)
    assert pacer.urgent == 1
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert pacer.urgent == 0
