"""FloodGuard: exact verdicts on a fake clock, isolation between chats, bounded memory."""

from __future__ import annotations

import pytest

from bots.telegram.flood import FloodGuard, FloodStats, Verdict

ALLOW, WARN, DROP = Verdict.ALLOW, Verdict.WARN, Verdict.DROP


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def guard(clock: Clock, limit: int = 3, window: float = 10.0, pause: float = 60.0) -> FloodGuard:
    return FloodGuard(limit=limit, window=window, pause=pause, clock=clock)


def test_three_in_ten_seconds_then_warn_once_then_drop_then_allow_after_the_pause() -> None:
    clock = Clock()
    flood = guard(clock)
    verdicts = []
    for _ in range(5):
        verdicts.append(flood.check("a"))
        clock.advance(1)
    assert verdicts == [ALLOW, ALLOW, ALLOW, WARN, DROP]
    assert flood.paused("a")
    clock.now = 1003 + 60 - 0.001  # the 4th update (at 1003) started the pause
    assert flood.check("a") is DROP
    clock.now = 1003 + 60
    assert not flood.paused("a")
    assert flood.check("a") is ALLOW
    assert flood.stats() == FloodStats(warned=1, dropped=2, chats=1)


def test_after_the_pause_the_count_starts_afresh_and_a_new_flood_is_warned_again() -> None:
    clock = Clock()
    flood = guard(clock)
    assert [flood.check("a") for _ in range(4)] == [ALLOW, ALLOW, ALLOW, WARN]
    clock.advance(60)
    # nothing from before the pause counts: `limit` quick updates pass again
    assert [flood.check("a") for _ in range(5)] == [ALLOW, ALLOW, ALLOW, WARN, DROP]
    assert flood.stats().warned == 2


def test_the_window_slides_and_is_half_open() -> None:
    clock = Clock()
    flood = guard(clock)
    for at in (0.0, 1.0, 2.0):
        clock.now = 1000 + at
        assert flood.check("a") is ALLOW
    clock.now = 1010.0  # the update at 1000 is exactly 10 s old: it no longer counts
    assert flood.check("a") is ALLOW
    clock.now = 1010.5  # 1001, 1002, 1010 and this one are within 10 s
    assert flood.check("a") is WARN


def test_a_slow_sender_never_trips() -> None:
    clock = Clock()
    flood = guard(clock, limit=3, window=10.0)
    for _ in range(1000):
        assert flood.check("a") is ALLOW
        clock.advance(3.5)  # 3 in any 10 s at most
    # bursts up to the limit, spaced a window apart, never trip either
    clock.advance(10)
    for _ in range(100):
        assert [flood.check("a") for _ in range(3)] == [ALLOW] * 3
        clock.advance(10)
    assert flood.stats() == FloodStats(warned=0, dropped=0, chats=1)


def test_one_chat_flooding_does_not_affect_another() -> None:
    clock = Clock()
    flood = guard(clock)
    for _ in range(50):
        flood.check("flooder")
    assert flood.paused("flooder")
    assert [flood.check("calm") for _ in range(3)] == [ALLOW] * 3
    assert not flood.paused("calm")
    clock.advance(5)
    assert flood.check("flooder") is DROP
    assert flood.check("other") is ALLOW
    assert flood.stats() == FloodStats(warned=1, dropped=47, chats=3)


def test_dropped_updates_do_not_extend_the_pause() -> None:
    clock = Clock()
    flood = guard(clock, pause=60.0)
    assert [flood.check("a") for _ in range(4)] == [ALLOW, ALLOW, ALLOW, WARN]
    warned_at = clock.now
    while clock.now < warned_at + 60 - 0.25:  # an auto-repeat, four times a second, all the pause long
        clock.advance(0.25)
        if clock.now < warned_at + 60:
            assert flood.check("a") is DROP
    clock.now = warned_at + 60
    assert flood.check("a") is ALLOW
    # and a person who keeps flooding is paused again only after going over the limit again
    assert [flood.check("a") for _ in range(3)] == [ALLOW, ALLOW, WARN]


def test_paused_records_nothing() -> None:
    clock = Clock()
    flood = guard(clock)
    assert not flood.paused("nobody")
    assert flood.stats().chats == 0
    for _ in range(3):
        flood.check("a")
        assert not flood.paused("a")
    assert flood.check("a") is WARN


def test_a_paused_chat_is_remembered_while_idle_until_its_pause_is_over() -> None:
    clock = Clock()
    flood = guard(clock, window=10.0, pause=300.0)
    assert [flood.check("a") for _ in range(4)] == [ALLOW, ALLOW, ALLOW, WARN]
    clock.advance(299)  # idle longer than the window, still within the pause
    flood.check("someone else")  # the check that would forget idle chats
    assert flood.paused("a")
    assert flood.check("a") is DROP


def test_updates_inside_the_window_are_remembered_while_idle() -> None:
    clock = Clock()
    flood = guard(clock, limit=2, window=300.0, pause=10.0)
    assert [flood.check("a") for _ in range(2)] == [ALLOW, ALLOW]
    clock.advance(299)  # longer than the pause, still within the window
    flood.check("someone else")
    assert flood.check("a") is WARN


def test_memory_returns_to_small_once_chats_are_idle() -> None:
    clock = Clock()
    flood = guard(clock, window=10.0, pause=60.0)
    for n in range(100_000):
        assert flood.check(f"chat {n}") is ALLOW
        clock.advance(0.0001)
    assert flood.stats().chats == 100_000
    clock.advance(60)  # the idle horizon is max(window, pause)
    assert flood.check("newcomer") is ALLOW
    assert len(flood._chats) == 1
    assert flood.stats().chats == 1


def test_memory_stays_bounded_under_steady_traffic_of_new_chats() -> None:
    clock = Clock()
    flood = guard(clock, window=10.0, pause=30.0)
    largest = 0
    for n in range(200_000):
        flood.check(f"chat {n}")
        clock.advance(0.01)  # 100 new chats a second: at most 30 s of them are remembered
        largest = max(largest, len(flood._chats))
    assert largest <= 30 * 100 + 1


def test_stats_are_counts_only() -> None:
    clock = Clock()
    flood = guard(clock)
    for _ in range(6):
        flood.check("secret-chat-key-4815162342")
    stats = flood.stats()
    assert stats == FloodStats(warned=1, dropped=2, chats=1)
    assert str(stats) == "flood: 1 warned, 2 dropped, 1 chat(s) tracked"
    assert "secret" not in repr(stats) and "4815162342" not in repr(stats)


def test_defaults() -> None:
    flood = FloodGuard()
    assert (flood.limit, flood.window, flood.pause, flood.idle) == (20, 60.0, 300.0, 300.0)
    assert [flood.check("a") for _ in range(22)] == [ALLOW] * 20 + [WARN, DROP]


@pytest.mark.parametrize(
    "kwargs", [{"limit": 0}, {"limit": -1}, {"window": 0}, {"window": -1.0}, {"pause": 0}, {"pause": float("nan")}]
)
def test_nonsense_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        FloodGuard(**kwargs)  # type: ignore[arg-type]


def test_new_limits_apply_at_once_to_what_was_sent_and_keep_a_running_pause() -> None:
    """bot.yaml's `flood:` changed while running (live reload)."""
    clock = Clock()
    flood = guard(clock, limit=5)
    assert [flood.check("a") for _ in range(3)] == [ALLOW] * 3
    assert [flood.check("b") for _ in range(7)] == [ALLOW] * 5 + [WARN, DROP]
    flood.configure(2, 10.0, 30.0)
    assert (flood.limit, flood.window, flood.pause, flood.idle) == (2, 10.0, 30.0, 60.0)  # b is paused for 60 s
    assert flood.check("a") is WARN  # three already sent count under the new limit of two
    clock.advance(59)
    assert flood.check("b") is DROP  # paused for the old 60 s
    clock.advance(1)
    assert [flood.check("b") for _ in range(4)] == [ALLOW, ALLOW, WARN, DROP]
    with pytest.raises(ValueError):
        flood.configure(0, 10.0, 30.0)
