"""Which AWS operation a signed request calls, for the counters.

JSON-protocol services (Secrets Manager, SSM) name it in ``X-Amz-Target`` (``secretsmanager.ListSecrets``),
query-protocol ones (STS, IAM) in the ``Action`` parameter, and Connect, a restJson service, by its
method and path, matched against the routes of botocore's own Connect model.
"""

from __future__ import annotations

import io
import re
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import botocore.session
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from amazon_connect_emulator.counters import UNKNOWN_OPERATION

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

_LABEL = re.compile(r"\{(\w+?)(\+?)\}")


def operation_of(environ: WSGIEnvironment, service: str) -> str:
    """The operation name, or ``UNKNOWN_OPERATION``; a body read to find an ``Action`` is put back."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    if service == "connect":
        return connect_operation(environ) or UNKNOWN_OPERATION
    return query_action(environ) or UNKNOWN_OPERATION


def query_action(environ: WSGIEnvironment) -> str | None:
    """The ``Action`` of a query-protocol request, from its query string or form body."""
    query = str(environ.get("QUERY_STRING", ""))
    form = str(environ.get("CONTENT_TYPE", "")).startswith("application/x-www-form-urlencoded")
    if environ.get("REQUEST_METHOD") == "POST" and form:
        query = f"{query}&{request_body(environ).decode('utf-8', 'replace')}"
    actions = parse_qs(query).get("Action")
    return actions[0] if actions else None


def request_body(environ: WSGIEnvironment) -> bytes:
    """The request's body, read and put back as a fresh ``wsgi.input`` so moto can still read it."""
    body: bytes = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def connect_operation(environ: WSGIEnvironment) -> str | None:
    """The Connect operation whose method and path (botocore's model) the request has."""
    try:
        endpoint, _ = _connect_routes().bind_to_environ(environ).match()
    except HTTPException:
        return None
    return str(endpoint)


@cache
def _connect_routes() -> Map:
    model = botocore.session.get_session().get_service_model("connect")
    rules = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path = _LABEL.sub(_converter, http["requestUri"].split("?", 1)[0])
        rules.append(Rule(path, methods=[http["method"]], endpoint=name))
    return Map(rules, strict_slashes=False)


def _converter(label: re.Match[str]) -> str:
    return f"<path:{label[1]}>" if label[2] else f"<{label[1]}>"
