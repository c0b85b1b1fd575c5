"""Injected faults: a share of GetFederationToken calls fails, repeatably with a seed."""

from __future__ import annotations

import pytest

from amazon_connect_emulator.faults import FaultInjector


def test_faults_follow_the_rate_and_repeat_with_a_seed() -> None:
    injector = FaultInjector(rate=0.5, seed=7)
    first = [injector.should_fail() for _ in range(200)]
    assert 60 < sum(first) < 140
    injector.reseed()
    assert [injector.should_fail() for _ in range(200)] == first
    assert not any(FaultInjector(rate=0.0).should_fail() for _ in range(100))
    assert all(FaultInjector(rate=1.0).should_fail() for _ in range(100))
    with pytest.raises(ValueError, match=r"fault_rate must be a number from 0\.0 to 1\.0, got nan"):
        injector.set_rate(float("nan"))
