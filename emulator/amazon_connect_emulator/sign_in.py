"""Agents signing in to an instance with their federation token, as a browser does.

Each instance's pages live under the emulator's endpoint at ``/connect/<InstanceId>``, the
instance URL its ``SignInUrl`` names (DescribeInstance's ``InstanceAccessUrl`` stays moto's
``https://<alias>.my.connect.aws``, which no local browser reaches):

- ``POST /connect/<InstanceId>/auth/sign-in``, a form with ``credentials`` (the JSON of
  ``AccessToken``, ``AccessTokenExpiration``, ``RefreshToken`` and ``RefreshTokenExpiration``,
  expirations in epoch milliseconds) and ``destination`` (a path on the instance, default
  ``/ccp-v2``), as AWS's sample amazon-connect/video-call-escalation posts it. A pair this emulator
  issued for this instance, unaltered (both tokens and both expirations as issued) and unexpired,
  gets a session cookie and a 302 to the destination. Anything else gets a 4xx page saying what was
  wrong and no cookie: 400 for a malformed form, 401 for an unknown, altered or expired token.
- ``GET /connect/<InstanceId>/ccp-v2``: with a session cookie, a small page naming the signed-in
  agent; without one, 401.

Browser requests carry no SigV4 signature; these routes need none.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from collections.abc import Callable

PREFIX = "/connect/"
DEFAULT_DESTINATION = "/ccp-v2"
SESSION_COOKIE = "connect-emulator-session"
_CREDENTIAL_KEYS = ("AccessToken", "AccessTokenExpiration", "RefreshToken", "RefreshTokenExpiration")
_DESTINATION = re.compile(r"/(?!/)[^\s\\\x00-\x1f\x7f]*")
_ROUTES = Map(
    [
        Rule("/connect/<instance_id>/auth/sign-in", methods=["POST"], endpoint="sign_in"),
        Rule("/connect/<instance_id>/ccp-v2", methods=["GET"], endpoint="ccp"),
    ]
)


@dataclass(frozen=True)
class _Issued:
    instance_id: str
    username: str
    credentials: dict[str, Any]


class SignInError(Exception):
    """A refused sign-in: the HTTP status and what was wrong (never a token)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class SignIns:
    """The tokens this emulator issued, and the sessions they opened. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._issued: dict[str, _Issued] = {}
        self._sessions: dict[str, tuple[str, str]] = {}

    def instance_url(self, host_url: str, instance_id: str) -> str:
        """The instance's URL on the emulator reached at ``host_url``."""
        return f"{host_url.rstrip('/')}{PREFIX}{instance_id}"

    def issue(self, instance_id: str, username: str, credentials: dict[str, Any]) -> None:
        """Remember a token pair GetFederationToken handed out (expirations in epoch seconds)."""
        with self._lock:
            self._issued[credentials["AccessToken"]] = _Issued(instance_id, username, dict(credentials))

    def clear(self) -> None:
        with self._lock:
            self._issued.clear()
            self._sessions.clear()

    def sign_in(self, instance_id: str, credentials_text: str | None) -> tuple[str, str]:
        """Check a posted ``credentials`` field; return ``(session id, username)`` or raise SignInError."""
        credentials = _posted_credentials(credentials_text)
        with self._lock:
            issued = self._issued.get(str(credentials["AccessToken"]))
        if issued is None or issued.instance_id != instance_id:
            raise SignInError(401, "The access token was not issued for this instance by GetFederationToken.")
        for key in _CREDENTIAL_KEYS:
            if credentials[key] != _as_posted(key, issued.credentials[key]):
                raise SignInError(
                    401, f"{key} is not the one GetFederationToken issued with this access token."
                )
        if self._clock() >= issued.credentials["AccessTokenExpiration"]:
            raise SignInError(401, "The access token has expired: get a new one with GetFederationToken.")
        session = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[session] = (instance_id, issued.username)
        return session, issued.username

    def agent(self, instance_id: str, session: str | None) -> str | None:
        """The username signed in to ``instance_id`` with ``session``, if any."""
        with self._lock:
            found = self._sessions.get(session or "")
        return found[1] if found and found[0] == instance_id else None

    def respond(self, request: Request) -> Response:
        """Answer a browser's request for one of the instance pages."""
        try:
            endpoint, args = _ROUTES.bind_to_environ(request.environ).match()
        except HTTPException as error:
            return _page(error.code or 404, "Not an instance page", str(error.description))
        instance_id = args["instance_id"]
        if endpoint == "ccp":
            return self._ccp(request, instance_id)
        return self._sign_in(request, instance_id)

    def _sign_in(self, request: Request, instance_id: str) -> Response:
        try:
            destination = _destination(request.form.get("destination", ""))
            session, _ = self.sign_in(instance_id, request.form.get("credentials"))
        except SignInError as error:
            return _page(error.status, "Sign-in refused", str(error))
        response = Response(status=302, headers={"Location": f"{PREFIX}{instance_id}{destination}"})
        response.set_cookie(
            SESSION_COOKIE, session, path=f"{PREFIX}{instance_id}", httponly=True, samesite="Lax"
        )
        return response

    def _ccp(self, request: Request, instance_id: str) -> Response:
        agent = self.agent(instance_id, request.cookies.get(SESSION_COOKIE))
        if agent is None:
            return _page(401, "Not signed in", "Sign in with a federation token first.")
        return _page(200, "Contact Control Panel", f"Signed in as {agent} on instance {instance_id}.")


def _posted_credentials(text: str | None) -> dict[str, Any]:
    if not text:
        raise SignInError(400, "The form has no credentials field.")
    try:
        credentials = json.loads(text)
    except json.JSONDecodeError:
        raise SignInError(400, "The credentials field is not JSON.") from None
    if not isinstance(credentials, dict):
        raise SignInError(400, "The credentials field is not a JSON object.")
    missing = [key for key in _CREDENTIAL_KEYS if key not in credentials]
    if missing:
        raise SignInError(400, f"The credentials field lacks {', '.join(missing)}.")
    for key in ("AccessTokenExpiration", "RefreshTokenExpiration"):
        if isinstance(credentials[key], bool) or not isinstance(credentials[key], int):
            raise SignInError(400, f"{key} must be epoch milliseconds (a whole number).")
    return credentials


def _as_posted(key: str, value: Any) -> Any:
    """An issued credential as the form carries it: expirations in epoch milliseconds."""
    return round(value * 1000) if key.endswith("Expiration") else value


def _destination(value: str) -> str:
    if value == "":
        return DEFAULT_DESTINATION
    if _DESTINATION.fullmatch(value):
        return value
    raise SignInError(400, f"destination {value!r} is not a path on this instance.")


def _page(status: int, title: str, text: str) -> Response:
    body = (
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p id='status'>{html.escape(text)}</p></body></html>"
    )
    return Response(body, status=status, content_type="text/html; charset=utf-8")
