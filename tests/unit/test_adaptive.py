"""The adaptive limiter's state machine (domain/adaptive.py): properties, no threads, no network.

Time is a number handed in; every observation is (kind, status, sent at, seen at)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from function.domain.adaptive import Adaptive, Signal, Tuning

STATUSES = st.sampled_from([200, 202, 204, 404, 409, 429, 500, 503, None])
KINDS = st.sampled_from(["GET", "POST", "DELETE"])
OBSERVATION = st.tuples(KINDS, STATUSES, st.floats(0.0, 5.0), st.none() | st.floats(0.0, 60.0))


def _feed(state: Adaptive, observations: list[tuple[str, int | None, float, float | None]]) -> None:
    now = 0.0
    for kind, status, latency, retry_after in observations:
        now += 0.01
        state.observe(kind, status, now, now + latency, retry_after)
        now += latency


@given(st.integers(1, 64), st.integers(0, 100), st.lists(OBSERVATION, max_size=200))
def test_the_width_stays_within_one_and_the_ceiling(
    ceiling: int, start: int, observations: list[tuple[str, int | None, float, float | None]]
) -> None:
    state = Adaptive(ceiling, Tuning(start=start))
    assert 1 <= state.width <= ceiling
    now = 0.0
    for kind, status, latency, retry_after in observations:
        now += 0.01
        state.observe(kind, status, now, now + latency, retry_after)
        now += latency
        assert 1 <= state.width <= ceiling


@given(st.integers(1, 64), st.lists(OBSERVATION, max_size=100), st.sampled_from([429, 503]))
def test_a_throttle_answer_to_a_request_sent_after_the_last_cut_halves_the_width(
    ceiling: int, before: list[tuple[str, int | None, float, float | None]], status: int
) -> None:
    state = Adaptive(ceiling)
    _feed(state, before)
    width = state.width
    now = 10_000.0  # sent after every earlier cut
    assert state.observe("GET", status, now, now + 0.1) is Signal.CUT
    assert state.width == max(1, width // 2)


def test_one_overshoot_halves_once_later_answers_to_earlier_requests_do_not() -> None:
    state = Adaptive(32, Tuning(start=32))
    assert state.observe("GET", 429, 1.0, 1.1) is Signal.CUT
    assert state.width == 16
    for _ in range(10):  # the rest of the burst, sent at 1.0, answered after the cut
        assert state.observe("GET", 429, 1.0, 1.2) is Signal.HELD
    assert state.width == 16
    assert state.observe("GET", 429, 1.15, 1.3) is Signal.CUT  # sent after the cut
    assert state.width == 8


@given(st.integers(1, 64), st.integers(1, 64), st.sampled_from([200, 201, 202, 204, 404, 409]))
def test_clean_answers_grow_the_width_up_to_the_ceiling(
    ceiling: int, start: int, status: int
) -> None:
    state = Adaptive(ceiling, Tuning(start=start))
    now, widths = 0.0, [state.width]
    for _ in range(2 * ceiling):
        assert state.observe("GET", status, now, now + 0.1) is Signal.GREW
        widths.append(state.width)
        now += 0.1
    assert widths == sorted(widths)
    assert state.width == ceiling


def test_slow_start_doubles_per_round_trip_then_one_more_per_round_trip_after_a_cut() -> None:
    state = Adaptive(64, Tuning(start=8))
    for _ in range(8):
        state.observe("GET", 200, 0.0, 0.1)
    assert state.width == 16  # one round trip of 8 answers: doubled
    state.observe("GET", 429, 0.2, 0.3)
    assert state.width == 8 and not state.slow_start
    for _ in range(9):  # about one round trip of clean answers: one more
        state.observe("GET", 200, 0.4, 0.5)
    assert state.width == 9


@given(st.floats(0.01, 30.0), st.floats(0.0, 1.0))
def test_retry_after_holds_every_sender_until_it_has_passed(
    retry_after: float, share: float
) -> None:
    state = Adaptive(32)
    state.observe("GET", 429, 5.0, 5.1, retry_after)
    asked = 5.1 + share * retry_after * 0.999  # any thread, any time before the pause ends
    assert asked + state.wait(asked) >= 5.1 + retry_after - 1e-9
    assert state.wait(5.1 + retry_after + 1e-6) == 0.0  # and not a moment longer


def test_retry_after_is_capped_and_senders_leave_a_pace_apart_after_it() -> None:
    state = Adaptive(32, Tuning(max_pause_s=30.0))
    for i in range(20):  # 20 clean answers in the last second: 20/s
        state.observe("GET", 200, 0.5 + i * 0.02, 0.6 + i * 0.02)
    state.observe("GET", 429, 1.0, 1.0, 3600.0)
    assert state.pause_until == 31.0
    assert state.wait(2.0) == 29.0
    assert state.wait(31.0) == 0.0  # the first sender leaves when the pause ends
    assert state.wait(31.0) > 0.0  # the next one a pace interval later, not all at once


def test_a_429_paces_at_a_share_of_the_clean_rate_then_grows_back_past_it() -> None:
    state = Adaptive(32)
    assert state.rate(0.0) is None  # not paced before any 429
    state.observe("GET", 200, 0.0, 0.0)  # a second ago
    for i in range(40):  # 40 clean answers within the last second
        state.observe("GET", 200, 0.5 + i * 0.01, 0.55 + i * 0.01)
    state.observe("GET", 429, 0.95, 1.0)
    rate = state.rate(1.0)
    assert rate is not None and math.isclose(rate, 0.7 * 40, rel_tol=1e-6)
    later = [state.rate(1.0 + t) for t in (1.0, 2.0, 4.0, 8.0, 16.0)]
    assert all(r is not None for r in later)
    assert later == sorted(later) and later[-1] is not None and later[-1] > 40
    for i in range(40):  # 20 clean answers a second for two seconds
        state.observe("GET", 200, 18.0 + i * 0.05, 18.0 + i * 0.05)
    pace = state.rate(20.0)
    for _ in range(3):  # later 429s that persist: a gentler cut, from the lower
        state.observe("GET", 429, 20.0, 20.0)  # of the pace and the clean rate
    assert pace is not None and pace > 20
    assert math.isclose(state.rate(20.0) or 0, 0.85 * 20, rel_tol=0.06)


def test_after_429s_unrelated_to_the_rate_the_pace_grows_back() -> None:
    state = Adaptive(32)
    state.observe("GET", 200, 0.0, 0.0)
    for i in range(100):  # 100/s
        state.observe("GET", 200, 0.5 + i * 0.005, 0.5 + i * 0.005)
    now = 1.0
    for _ in range(20):  # a 429 every round trip, nothing clean in between
        state.observe("GET", 429, now, now + 0.01)
        now += 0.1
    low = state.rate(now)
    assert low is not None and low < 10
    assert (state.rate(now + 30.0) or 0) > 100  # once they stop, it grows past 100/s again


def test_reads_that_slow_down_cut_the_width_slow_writes_do_not() -> None:
    state = Adaptive(32, Tuning(start=16))
    for i in range(10):
        state.observe("GET", 200, i, i + 0.1)
    width = state.width
    for i in range(10):
        state.observe("POST", 202, 20 + i, 20 + i + 3.0)  # an attach takes seconds
    assert state.width >= width
    signals = [state.observe("GET", 200, 40 + i, 40 + i + 2.0) for i in range(10)]
    assert Signal.CUT in signals and state.width < width


def test_no_answer_holds_and_a_5xx_other_than_503_does_not_grow() -> None:
    state = Adaptive(32)
    assert state.observe("GET", None, 0.0, 1.0) is Signal.HELD
    assert state.observe("GET", 500, 0.0, 0.1) is Signal.HELD
    assert state.width == 8


def test_a_ceiling_below_one_is_refused() -> None:
    try:
        Adaptive(0)
    except ValueError as exc:
        assert "ceiling" in str(exc)
    else:
        raise AssertionError("Adaptive(0) was accepted")


@given(st.integers(1, 64), st.floats(1.001, 1e6))
def test_after_a_pause_in_sending_the_width_starts_again_from_the_start(
    ceiling: int, idle: float
) -> None:
    state = Adaptive(ceiling, Tuning(start=8, idle_s=1.0))
    assert state.wait(0.0) == 0.0
    for _ in range(3 * ceiling):
        state.observe("GET", 200, 0.0, 0.0)
    assert state.width == ceiling
    assert state.wait(0.5) == 0.0 and state.width == ceiling  # not idle long enough
    assert state.wait(0.5 + idle) == 0.0
    assert state.width == min(8, ceiling) and state.slow_start


def test_a_429_while_sending_well_below_the_pace_pauses_and_narrows_but_keeps_the_pace() -> None:
    state = Adaptive(32, Tuning(start=16))
    state.observe("GET", 200, 0.0, 0.0)
    for i in range(40):
        state.observe("GET", 200, 0.5 + i * 0.01, 0.5 + i * 0.01)
    state.observe("GET", 429, 0.95, 1.0)  # the first 429: paced at 0.7 × 40/s
    for i in range(5):  # then 5 answers a second, far below the pace
        state.observe("GET", 200, 10.0 + i * 0.2, 10.0 + i * 0.2)
    pace, width = state.rate(11.0), state.width
    assert state.observe("GET", 429, 11.0, 11.0, 0.5) is Signal.CUT
    assert state.rate(11.0) == pace and state.width == max(1, width // 2)
    assert state.wait(11.0) == 0.5


def test_a_429_while_sending_at_about_the_pace_cuts_it_at_once() -> None:
    state = Adaptive(32)
    state.observe("GET", 200, 0.0, 0.0)
    for i in range(40):
        state.observe("GET", 200, 0.5 + i * 0.01, 0.5 + i * 0.01)
    state.observe("GET", 429, 0.95, 1.0)  # paced at 28/s, growing back towards 40/s
    for i in range(31):  # then 30 clean answers a second: about the pace
        state.observe("GET", 200, 1.5 + i / 30, 1.5 + i / 30)
    pace = state.rate(2.5)
    assert state.observe("GET", 429, 2.5, 2.5) is Signal.CUT
    assert pace is not None and pace > 30  # the clean rate is the lower one
    assert math.isclose(state.rate(2.5) or 0, 0.85 * 30, rel_tol=0.05)
