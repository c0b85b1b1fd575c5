"""Mask what botocore's service models mark ``sensitive`` before botocore's DEBUG logging shows it.

At DEBUG, botocore logs request parameters and signed headers (``botocore.endpoint``,
``botocore.auth``) and every raw response body (``botocore.parsers``), and http.client's debug
level prints each request with its headers, all before the caller sees a response it could mask
(urllib3's DEBUG lines show only the request line). :func:`protect` registers two
handlers on a client: before a request is built, the values of its input members that the
service model marks ``sensitive`` are registered with Airflow's secret masker; before a
response is parsed, so are those of its output. Every later log line then shows ``***``.

- STS marks ``SecretAccessKey`` sensitive but not ``SessionToken``, which signs a role
  session's requests together with it: it is treated as sensitive too.
- A sensitive value that holds a stored federation token (the provider's own secret) has its
  two tokens registered, not the whole text, so user ARNs and expiries stay readable.

Nothing is registered unless one of those loggers is at DEBUG (or http.client's debug level is
on): above DEBUG none of them shows a value, and every secret Airflow's masker holds makes the
next registration dearer. Connect's federation tokens are registered whatever the level, by
whoever receives them (:meth:`FederationToken.mask`).
"""

from __future__ import annotations

import http.client
import json
import logging
import xml.etree.ElementTree as ElementTree
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_connect_fed.masking import mask_secrets

if TYPE_CHECKING:
    from collections.abc import Iterator

    from botocore.model import OperationModel, Shape

#: Loggers that show request parameters, headers or bodies at DEBUG.
WIRE_LOGGERS = ("botocore.endpoint", "botocore.auth", "botocore.parsers")
#: Members a service model leaves unmarked but which are secret all the same.
_ALSO_SENSITIVE = {"sts": frozenset({"SessionToken"})}
_JSON_PROTOCOLS = ("json", "rest-json")
_Client = TypeVar("_Client")


def protect(client: _Client) -> _Client:
    """Register ``client``'s sensitive request and response values with the masker before botocore logs them."""
    events = client.meta.events  # type: ignore[attr-defined]
    events.register("before-parameter-build", _mask_request, unique_id="connect-fed-sensitive-request")
    events.register("before-parse", _mask_response, unique_id="connect-fed-sensitive-response")
    return client


def wire_debug_enabled() -> bool:
    """Whether any logger that shows request or response contents would log at DEBUG."""
    if http.client.HTTPConnection.debuglevel > 0:
        return True
    return any(logging.getLogger(name).isEnabledFor(logging.DEBUG) for name in WIRE_LOGGERS)


def _mask_request(params: dict[str, Any], model: OperationModel, **_: Any) -> None:
    if not wire_debug_enabled() or model.input_shape is None:
        return
    also = _ALSO_SENSITIVE.get(model.service_model.service_name, frozenset())
    _register(_json_values(model.input_shape, params, also, by_wire_name=False))


def _mask_response(operation_model: OperationModel, response_dict: dict[str, Any], **_: Any) -> None:
    shape = operation_model.output_shape
    body = response_dict.get("body")
    if not wire_debug_enabled() or shape is None or not body:
        return
    also = _ALSO_SENSITIVE.get(operation_model.service_model.service_name, frozenset())
    if operation_model.metadata.get("protocol") in _JSON_PROTOCOLS:
        try:
            data = json.loads(body)
        except ValueError:
            return
        _register(_json_values(shape, data, also, by_wire_name=True))
        return
    _register(_xml_values(shape, body, also))


def _json_values(
    shape: Shape, value: Any, also: frozenset[str], *, by_wire_name: bool, inherited: bool = False
) -> Iterator[str]:
    """String values under sensitive members of ``shape`` in ``value`` (parsed JSON or boto3 params)."""
    sensitive = inherited or bool(shape.metadata.get("sensitive"))
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            key = member.serialization.get("name", name) if by_wire_name else name
            if key in value:
                yield from _json_values(
                    member, value[key], also, by_wire_name=by_wire_name, inherited=sensitive or name in also
                )
    elif shape.type_name == "list" and isinstance(value, list):
        for item in value:
            yield from _json_values(shape.member, item, also, by_wire_name=by_wire_name, inherited=sensitive)  # type: ignore[attr-defined]
    elif shape.type_name == "map" and isinstance(value, dict):
        for item in value.values():
            yield from _json_values(shape.value, item, also, by_wire_name=by_wire_name, inherited=sensitive)  # type: ignore[attr-defined]
    elif sensitive and isinstance(value, str):
        yield value


def _xml_values(shape: Shape, body: bytes, also: frozenset[str]) -> Iterator[str]:
    """Texts of the elements named like sensitive members of ``shape`` (query and XML protocols)."""
    names = set(_sensitive_names(shape, also))
    if not names:
        return
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - an AWS answer over the client's own TLS connection
    except ElementTree.ParseError:
        return
    for element in root.iter():
        if element.tag.rpartition("}")[2] in names and element.text:
            yield element.text


def _sensitive_names(shape: Shape, also: frozenset[str], inherited: bool = False) -> Iterator[str]:
    sensitive = inherited or bool(shape.metadata.get("sensitive"))
    if shape.type_name == "structure":
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            marked = sensitive or name in also or bool(member.metadata.get("sensitive"))
            if marked and member.type_name not in ("structure", "list", "map"):
                yield member.serialization.get("name", name)
            yield from _sensitive_names(member, also, marked)
    elif shape.type_name == "list":
        yield from _sensitive_names(shape.member, also, sensitive)  # type: ignore[attr-defined]


def _register(values: Iterator[str]) -> None:
    secrets = [secret for value in values for secret in _secrets_in(value)]
    if secrets:
        mask_secrets(secrets)


def _secrets_in(value: str) -> list[str]:
    """The tokens of a stored federation token, else the value itself."""
    from airflow_connect_fed.exceptions import InvalidFederationTokenError
    from airflow_connect_fed.token import FederationToken

    if not value.startswith("{"):
        return [value]
    try:
        token = FederationToken.from_dict(json.loads(value))
    except (ValueError, InvalidFederationTokenError):
        return [value]
    return [token.access_token, token.refresh_token]
