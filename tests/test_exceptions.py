"""The provider's error classes: one base, the built-in each is also, the API error's details, bulk failures."""

from __future__ import annotations

import inspect
import pickle

import pytest

from airflow_connect_fed import exceptions as exc

ERRORS = [cls for _, cls in inspect.getmembers(exc, inspect.isclass) if cls.__module__ == exc.__name__]
API_ERRORS = {
    exc.InvalidRequestError,
    exc.InvalidParameterError,
    exc.InstanceNotFoundError,
    exc.UserNotFoundError,
    exc.DuplicateResourceError,
    exc.InternalServiceError,
    exc.ThrottlingError,
    exc.AccessDeniedError,
    exc.RootCredentialsError,
    exc.AssumeRoleError,
    exc.AwsConnectionError,
}


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_is_a_connect_federation_error(cls):
    assert issubclass(cls, exc.ConnectFederationError)


def test_api_errors_are_the_connect_api_error_subclasses():
    assert {cls for cls in ERRORS if issubclass(cls, exc.ConnectApiError)} == API_ERRORS | {
        exc.ConnectApiError
    }


@pytest.mark.parametrize(
    ("cls", "parent"),
    [
        (exc.InvalidInputError, ValueError),
        (exc.InvalidInstanceIdError, exc.InvalidInputError),
        (exc.InvalidConnectUserError, exc.InvalidInputError),
        (exc.InvalidDestinationError, exc.InvalidInputError),
        (exc.InvalidFederationTokenError, ValueError),
        (exc.TokenInXComError, TypeError),
    ],
)
def test_what_else_an_error_is(cls, parent):
    assert issubclass(cls, parent)


@pytest.mark.parametrize(
    "cls",
    [exc.InvalidFederationTokenError, exc.SharedQuotaError, exc.DestinationWriteError, exc.TokenReadError],
)
def test_errors_that_are_not_about_an_argument(cls):
    assert not issubclass(cls, exc.InvalidInputError)
    assert not issubclass(cls, exc.ConnectApiError)


def test_api_error_details_default_to_unknown():
    error = exc.ConnectApiError("Connect failed.")
    assert str(error) == "Connect failed."
    assert (error.error_code, error.status_code, error.instance_id) == ("", None, None)


@pytest.mark.parametrize(
    "cls", sorted(API_ERRORS, key=lambda cls: cls.__name__), ids=lambda cls: cls.__name__
)
def test_api_errors_keep_code_status_and_instance(cls):
    error = cls("No user.", error_code="UserNotFoundException", status_code=404, instance_id="i-1")
    assert str(error) == "No user."
    assert (error.error_code, error.status_code, error.instance_id) == ("UserNotFoundException", 404, "i-1")


def test_api_error_details_are_keyword_only():
    with pytest.raises(TypeError):
        exc.ConnectApiError("Connect failed.", "InternalServiceException")  # type: ignore[misc]


def test_bulk_error_names_each_user_with_its_error_and_the_way_out():
    failures: dict[str, exc.ConnectFederationError] = {
        "agent-1": exc.UserNotFoundError("No user.", error_code="UserNotFoundException"),
        "agent-2": exc.AssumeRoleError("Access denied.", error_code="AccessDenied"),
    }
    error = exc.BulkFederationError("11111111-2222", failures)
    assert error.failures is failures
    assert str(error) == (
        "2 Connect user(s) on instance '11111111-2222' got no stored token:\n"
        "  agent-1: UserNotFoundError: No user.\n"
        "  agent-2: AssumeRoleError: Access denied.\n"
        "Fix them, or pass allow_partial_failure=True to keep the others' tokens without failing."
    )
    assert not isinstance(error, exc.ConnectApiError)


def test_errors_survive_pickling_with_their_details():
    api_error = exc.UserNotFoundError("No user.", error_code="UserNotFoundException", status_code=404)
    bulk = exc.BulkFederationError("11111111-2222", {"agent-1": api_error})
    copy = pickle.loads(pickle.dumps(bulk))  # noqa: S301 - our own bytes
    assert type(copy) is exc.BulkFederationError
    assert str(copy) == str(bulk)
    assert copy.instance_id == "11111111-2222"
    ((user, error),) = copy.failures.items()
    assert user == "agent-1"
    assert (type(error), str(error), error.error_code, error.status_code) == (
        exc.UserNotFoundError,
        "No user.",
        "UserNotFoundException",
        404,
    )


def test_a_prune_error_survives_pickling_with_what_was_and_was_not_deleted():
    error = exc.TokenPruneError("Stopped.", deleted=["connect/agents/a1"], not_deleted=["connect/agents/a2"])
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (type(copy), str(copy), copy.deleted, copy.not_deleted) == (
        exc.TokenPruneError,
        "Stopped.",
        ["connect/agents/a1"],
        ["connect/agents/a2"],
    )
