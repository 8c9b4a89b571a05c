"""The emulator's token bucket (emulator/control/ratelimit.py) on a virtual clock."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from emulator.control.ratelimit import RateLimits, TokenBucket


@given(
    st.floats(0.5, 100.0),
    st.integers(1, 50),
    st.lists(st.floats(0.0, 0.5), min_size=1, max_size=300),
)
def test_a_bucket_never_lets_more_through_than_burst_plus_rate_times_the_time(
    rate: float, burst: int, gaps: list[float]
) -> None:
    bucket = TokenBucket.full(rate, burst, 0.0)
    now, passed = 0.0, 0
    for gap in gaps:
        now += gap
        if bucket.take(now) == 0.0:
            passed += 1
        assert passed <= burst + rate * now + 1e-9


@given(st.floats(0.5, 100.0), st.integers(1, 50))
def test_past_the_burst_the_wait_named_is_exactly_when_the_next_token_comes(
    rate: float, burst: int
) -> None:
    bucket = TokenBucket.full(rate, burst, 10.0)
    assert all(bucket.take(10.0) == 0.0 for _ in range(burst))
    wait = bucket.take(10.0)
    assert math.isclose(wait, 1.0 / rate)
    assert bucket.take(10.0 + wait * 0.99) > 0.0
    assert bucket.take(10.0 + wait * 1.0001) == 0.0


def test_each_project_and_api_has_its_own_bucket_and_rate_0_is_no_limit() -> None:
    now = [0.0]
    limits = RateLimits(rate=2.0, burst=2.0, clock=lambda: now[0])
    assert limits.check("p1", "compute") is None
    assert limits.check("p1", "compute") is None
    throttled = limits.check("p1", "compute")
    assert throttled is not None and throttled.status == 429
    assert throttled.headers["Retry-After"] == "0.5"
    assert limits.check("p2", "compute") is None  # another project
    assert limits.check("p1", "ecs") is None  # another API
    now[0] = 0.5
    assert limits.check("p1", "compute") is None  # a token came back
    assert limits.as_dict()["throttled"] == {"p1/compute": 1}
    limits.configure({"rate": 0})
    assert all(limits.check("p1", "compute") is None for _ in range(100))
