"""One lock per group of AWS services the emulator hands to moto: moto's backends are not thread-safe.

moto keeps each service's state in plain dicts and lists that its handlers read and change without
locks (its Secrets Manager store scans every stored secret on each lookup, so a ``CreateSecret`` in one
thread makes a ``PutSecretValue`` in another fail with ``RuntimeError: dictionary changed size during
iteration``, an HTTP 500 AWS never answers). werkzeug's threaded server runs each request in a thread
of its own, so the emulator serializes the requests of each group, and requests of different groups
still run side by side.

Services that read each other's backends share a group: STS and IAM (AssumeRole looks up roles, the
emulator's caller lookup reads both), Secrets Manager and SSM (SSM serves ``/aws/reference/secretsmanager/``
parameters from Secrets Manager's backend). Any other service, and any unsigned request (moto's own
``/moto-api/reset`` touches every backend), holds every lock. Locks are taken in one fixed order, so
holding every lock cannot deadlock with a holder of one.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Services whose backends one lock guards together.
GROUPS = (("connect",), ("iam", "sts"), ("secretsmanager", "ssm"))


class ServiceLocks:
    """A re-entrant lock per group of ``GROUPS``; ``hold(service)`` is the one to hold around moto."""

    def __init__(self) -> None:
        self._ordered = [threading.RLock() for _ in GROUPS]
        self._by_service = {service: self._ordered[i] for i, group in enumerate(GROUPS) for service in group}

    @contextmanager
    def hold(self, service: str | None) -> Iterator[None]:
        """Hold ``service``'s lock (every lock for a service of no group, or None: an unsigned request)."""
        lock = self._by_service.get(service) if service is not None else None
        if lock is None:
            with self.hold_all():
                yield
            return
        with lock:
            yield

    @contextmanager
    def hold_all(self) -> Iterator[None]:
        """Hold every lock, taken in ``GROUPS`` order."""
        with ExitStack() as stack:
            for lock in self._ordered:
                stack.enter_context(lock)
            yield
