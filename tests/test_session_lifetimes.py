from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_connect_fed.exceptions import InvalidInputError
from airflow_connect_fed.session_lifetimes import (
    SECRETS_MANAGER_WRITE_INTERVAL,
    advised_schedule,
    rewrite_interval,
    schedule_warnings,
)

MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("run_every", "window", "lifetime", "rewrite_every"),
    [
        (5, None, 60, 5),  # no reuse: every run writes
        (27, 32, 60, 54),  # reused at 27 min (33 left > 32), rewritten at 54 (6 left)
        (10, 15, 60, 50),  # reused at 10..40 min, rewritten at 50 (10 left)
        (10, 50, 60, 10),  # a window that leaves exactly one run's worth: 50 left is not more than 50
        (5, 60, 60, 5),  # a window as long as the token is never met
        (30, 45, 15, 30),  # longer than the token: never met
        (1, 5, 10, 5),  # reused at 1..4 min, rewritten at 5
    ],
)
def test_rewrite_interval(run_every, window, lifetime, rewrite_every):
    window = window * MINUTE if window is not None else None
    assert rewrite_interval(run_every * MINUTE, window, lifetime * MINUTE) == rewrite_every * MINUTE


@pytest.mark.parametrize("run_every", [timedelta(0), -MINUTE])
def test_rewrite_interval_needs_runs_that_come(run_every):
    with pytest.raises(InvalidInputError) as raised:
        rewrite_interval(run_every, None, 60 * MINUTE)
    assert str(raised.value) == f"run_every must be a positive timedelta, got {run_every!r}."


@pytest.mark.parametrize(
    ("lifetime", "run_every", "window", "rewrite_every"),
    [(10, 2, 7, 4), (15, 4, 9, 8), (20, 7, 12, 14), (30, 12, 17, 24), (45, 19, 24, 38), (60, 27, 32, 54)],
)
def test_the_advised_schedule_keeps_five_minutes_for_readers(lifetime, run_every, window, rewrite_every):
    advice = advised_schedule(lifetime * MINUTE)
    assert advice.run_every == run_every * MINUTE
    assert advice.reuse_if_valid_for == window * MINUTE
    assert advice.rewrite_every == rewrite_every * MINUTE
    assert advice.reader_gets == 5 * MINUTE
    # The run after a rotation reuses the token, even a minute late.
    assert lifetime * MINUTE - advice.run_every - MINUTE >= advice.reuse_if_valid_for


def test_the_advice_meets_secrets_managers_interval_from_twenty_minute_access_tokens():
    assert advised_schedule(15 * MINUTE).rewrite_every < SECRETS_MANAGER_WRITE_INTERVAL
    assert advised_schedule(20 * MINUTE).rewrite_every >= SECRETS_MANAGER_WRITE_INTERVAL


def test_no_warning_for_a_schedule_that_fits():
    assert (
        schedule_warnings(
            run_every=27 * MINUTE, reuse_window=32 * MINUTE, access_lifetime=60 * MINUTE, secrets_manager=True
        )
        == []
    )


def test_a_window_the_access_token_never_meets_is_named_with_the_tokens_life():
    (warning,) = schedule_warnings(
        run_every=None, reuse_window=45 * MINUTE, access_lifetime=15 * MINUTE, secrets_manager=False
    )
    assert warning.startswith("reuse_if_valid_for (45.0 min) is not shorter than the access tokens")
    assert "(15.0 min, its authentication profile's PeriodicSessionDuration)" in warning


def test_rewriting_a_secrets_manager_secret_more_often_than_every_ten_minutes_names_both_figures():
    (warning,) = schedule_warnings(
        run_every=4 * MINUTE, reuse_window=9 * MINUTE, access_lifetime=15 * MINUTE, secrets_manager=True
    )
    assert "runs come every 4.0 min" in warning
    assert "rewrite each agent's Secrets Manager secret about every 8.0 min" in warning
    assert "AWS advises at most once every 10.0 min" in warning


@pytest.mark.parametrize(
    ("run_every", "secrets_manager"),
    [(4 * MINUTE, False), (None, True), (timedelta(0), True)],
    ids=["ssm", "first run", "no interval"],
)
def test_the_ten_minute_advice_is_secrets_managers_and_needs_a_previous_run(run_every, secrets_manager):
    warnings = schedule_warnings(
        run_every=run_every, reuse_window=None, access_lifetime=15 * MINUTE, secrets_manager=secrets_manager
    )
    assert warnings == []


def test_the_how_tos_table_is_the_advised_schedule():
    """docs/howto/session-lifetimes.rst tabulates advised_schedule; each row is recomputed here."""
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "howto" / "session-lifetimes.rst").read_text()
    table = text.split("   * - PeriodicSessionDuration\n", 1)[1].split("\n\n", 1)[0]
    rows = table.split("   * - ")[1:]  # what precedes the first: the rest of the header row
    cells = [[cell.strip() for cell in row.split("\n     - ")] for row in rows]
    assert [row[0] for row in cells] == ["10 min", "15 min", "20 min", "30 min", "45 min", "60 min (default)"]
    for lifetime, run_every, window, rewrite_every, met in cells:
        advice = advised_schedule(int(lifetime.split()[0]) * MINUTE)
        assert [run_every, window, rewrite_every] == [
            f"{advice.run_every // MINUTE} min",
            f"{advice.reuse_if_valid_for // MINUTE} min",
            f"{advice.rewrite_every // MINUTE} min",
        ]
        assert met == ("met" if advice.rewrite_every >= SECRETS_MANAGER_WRITE_INTERVAL else "not met")
