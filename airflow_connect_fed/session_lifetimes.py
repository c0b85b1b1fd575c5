"""How often a schedule rewrites an agent's stored token, and the schedule that keeps it usable.

A federation token has two lifetimes, both set by the instance's authentication profile: the access
token's (``PeriodicSessionDuration``, 10 to 60 minutes) and the refresh token's
(``MaxSessionDuration``, 6 to 12 hours). Signing an agent in needs an unexpired access token, so a
stored token is usable for the access token's life only, and every reuse decision is taken on it.

Each rotation writes the agent's secret again. AWS advises writing one Secrets Manager secret at most
once every 10 minutes: each write is a version, versions younger than 24 hours are never removed, and
a secret rewritten more often fills its version quota. The operators warn at run time when their
schedule rewrites secrets more often than that (:func:`schedule_warnings`); the "Session lifetimes"
how-to tabulates :func:`advised_schedule` for every profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from airflow_connect_fed.exceptions import InvalidInputError

#: AWS's advice for one Secrets Manager secret: at most one write every 10 minutes.
SECRETS_MANAGER_WRITE_INTERVAL = timedelta(minutes=10)
#: What a reader of the stored token needs left when it reads: time to start and sign in.
READER_MARGIN = timedelta(minutes=5)
#: Lateness a scheduled run may have (scheduler loop, task start) without losing its reuse.
RUN_SLACK = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionDurations:
    """What an instance's default authentication profile sets (``DescribeAuthenticationProfile``)."""

    profile_id: str
    profile_name: str
    #: ``PeriodicSessionDuration``: the access token's life.
    access_token: timedelta
    #: ``MaxSessionDuration``: the refresh token's life, the longest a signed-in session lasts.
    refresh_token: timedelta

    @property
    def advised_schedule(self) -> RefreshSchedule:
        """The refresh schedule that keeps a stored token usable on this instance."""
        return advised_schedule(self.access_token)


@dataclass(frozen=True)
class RefreshSchedule:
    """A refresh DAG's schedule and reuse window, and what follows from them for one agent's secret."""

    run_every: timedelta
    reuse_if_valid_for: timedelta
    #: How often each agent's secret gets a new version.
    rewrite_every: timedelta
    #: The least access-token life a reader finds at any moment between two runs.
    reader_gets: timedelta


def rewrite_interval(
    run_every: timedelta, reuse_window: timedelta | None, access_lifetime: timedelta
) -> timedelta:
    """How often runs every ``run_every`` write a new token, each reusing the stored one while its
    access token (which lives ``access_lifetime``) has more than ``reuse_window`` left."""
    if run_every <= timedelta(0):
        raise InvalidInputError(f"run_every must be a positive timedelta, got {run_every!r}.")
    if reuse_window is None or reuse_window >= access_lifetime:
        return run_every
    reuses = math.ceil((access_lifetime - reuse_window) / run_every) - 1
    return run_every * (reuses + 1)


def advised_schedule(access_lifetime: timedelta, reader_margin: timedelta = READER_MARGIN) -> RefreshSchedule:
    """The schedule that keeps a stored token usable for readers with the fewest writes.

    Runs every ``S``, whole minutes, with ``reuse_if_valid_for = S + reader_margin``: right after a
    run the stored access token has at least that much left, so a reader just before the next run
    finds at least ``reader_margin``. ``S`` is the largest that lets the run after a rotation reuse
    the token even a little late (:data:`RUN_SLACK`), so a secret is rewritten every other run.
    """
    minutes = (access_lifetime - reader_margin - RUN_SLACK) // timedelta(minutes=1) // 2
    run_every = timedelta(minutes=max(1, minutes))
    window = run_every + reader_margin
    return RefreshSchedule(
        run_every=run_every,
        reuse_if_valid_for=window,
        rewrite_every=rewrite_interval(run_every, window, access_lifetime),
        reader_gets=window - run_every,
    )


def schedule_warnings(
    *,
    run_every: timedelta | None,
    reuse_window: timedelta | None,
    access_lifetime: timedelta,
    secrets_manager: bool,
) -> list[str]:
    """What a run that just rotated tokens should warn about, each message naming its figures.

    :param run_every: time since the DAG's previous successful run started (``None``: no such run).
    :param access_lifetime: the life of an access token just issued, the instance's
        ``PeriodicSessionDuration``.
    :param secrets_manager: the tokens went to Secrets Manager, whose 10-minute advice applies.
    """
    warnings = []
    if reuse_window is not None and reuse_window >= access_lifetime:
        warnings.append(
            f"reuse_if_valid_for ({_minutes(reuse_window)}) is not shorter than the access tokens this instance "
            f"issues ({_minutes(access_lifetime)}, its authentication profile's PeriodicSessionDuration), so no "
            "stored token is ever reused. Lower it below the access tokens' life (see the 'Session lifetimes' how-to)."
        )
    if not secrets_manager or run_every is None or run_every <= timedelta(0):
        return warnings
    rewrite_every = rewrite_interval(run_every, reuse_window, access_lifetime)
    if rewrite_every < SECRETS_MANAGER_WRITE_INTERVAL:
        warnings.append(
            f"This DAG's runs come every {_minutes(run_every)} and, with reuse_if_valid_for "
            f"{_minutes(reuse_window) if reuse_window else 'unset'} and access tokens that live "
            f"{_minutes(access_lifetime)}, rewrite each agent's Secrets Manager secret about every "
            f"{_minutes(rewrite_every)}; AWS advises at most once every "
            f"{_minutes(SECRETS_MANAGER_WRITE_INTERVAL)} (each write is a version, versions younger than 24 hours "
            "are never removed, and the secret's version quota fills). Schedule less often, set reuse_if_valid_for "
            "(see the 'Session lifetimes' how-to), or store the tokens in SSM Parameter Store."
        )
    return warnings


def _minutes(duration: timedelta) -> str:
    return f"{duration.total_seconds() / 60:.1f} min"
