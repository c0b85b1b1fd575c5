"""Errors raised by airflow-connect-fed.

Every error a user can cause is a :class:`ConnectFederationError`. Messages say
what was wrong, with the offending value, and what to do; they never contain a
token.
"""

from __future__ import annotations


class ConnectFederationError(Exception):
    """Base class of every error raised by this provider."""


class InvalidInputError(ConnectFederationError, ValueError):
    """An argument was rejected before any network call was made."""


class InvalidInstanceIdError(InvalidInputError):
    """``instance_id`` is neither a valid Connect instance ID nor an instance ARN."""


class InvalidConnectUserError(InvalidInputError):
    """``connect_user`` cannot be used as an STS role session name."""


class InvalidDestinationError(InvalidInputError):
    """The token destination is unknown or incompletely configured."""


class InvalidFederationTokenError(ConnectFederationError, ValueError):
    """A value could not be read as a federation token or a reference to one."""


class TokenInXComError(ConnectFederationError, TypeError):
    """A task returned a :class:`~airflow_connect_fed.token.FederationToken`, which would put its tokens in XCom."""


class ConnectApiError(ConnectFederationError):
    """Amazon Connect (or STS) answered a request with an error, or could not be reached.

    The message names the answer's request id (``RequestId ...``), and botocore's exception is
    the ``__cause__``.

    :param error_code: the AWS error code, e.g. ``UserNotFoundException``.
    :param status_code: the HTTP status code of the answer, when known.
    :param instance_id: the Connect instance the call was for.
    :param request_id: AWS's id of the request (``x-amzn-RequestId``), when AWS answered.
    """

    def __init__(
        self,
        message: str,
        *,
        error_code: str = "",
        status_code: int | None = None,
        instance_id: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.status_code = status_code
        self.request_id = request_id
        self.instance_id = instance_id


class InvalidRequestError(ConnectApiError):
    """``InvalidRequestException`` (400): Connect rejected the request."""


class InvalidParameterError(ConnectApiError):
    """``InvalidParameterException`` (400): a parameter, usually the instance ID, is not valid."""


class InstanceNotFoundError(ConnectApiError):
    """``ResourceNotFoundException`` (404): no Connect instance with that ID in this account and region."""


class UserNotFoundError(ConnectApiError):
    """``UserNotFoundException`` (404): no Connect user matches the calling IAM identity."""


class DuplicateResourceError(ConnectApiError):
    """``DuplicateResourceException`` (409): the user federated earlier through a different IAM role."""


class InternalServiceError(ConnectApiError):
    """``InternalServiceException`` (500): Connect failed; retried before this is raised."""


class ThrottlingError(ConnectApiError):
    """``ThrottlingException`` (429): over the API quota; retried before this is raised."""


class AccessDeniedError(ConnectApiError):
    """``AccessDeniedException`` (403): the calling identity lacks the permission, e.g. ``connect:GetFederationToken``
    or ``connect:SearchUsers``."""


class RootCredentialsError(ConnectApiError):
    """The calling identity is the account root, which Connect refuses to federate."""


class AssumeRoleError(ConnectApiError):
    """``sts:AssumeRole`` failed for a Connect user's session."""


class AwsConnectionError(ConnectApiError):
    """AWS could not be reached or no credentials were found."""


class SharedQuotaError(ConnectFederationError):
    """The deployment-wide quota's Redis connection is missing, of another type, or does not answer."""


class DestinationWriteError(ConnectFederationError):
    """The token could not be written to its destination; what was stored before is unchanged."""


class TokenReadError(ConnectFederationError):
    """A stored token could not be read back."""


class TokenPruneError(ConnectFederationError):
    """Stored tokens were not pruned: the store could not be listed, the prune was refused, or a deletion failed.

    ``deleted`` and ``not_deleted`` are the Variable keys deleted before it stopped and those it
    meant to delete but did not.
    """

    def __init__(
        self, message: str, deleted: list[str] | None = None, not_deleted: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.deleted = deleted or []
        self.not_deleted = not_deleted or []

    def __reduce__(self) -> tuple[type[TokenPruneError], tuple[str, list[str], list[str]]]:
        """Rebuilt from its arguments, so it survives pickling."""
        return type(self), (str(self), self.deleted, self.not_deleted)


class BulkFederationError(ConnectFederationError):
    """Some users of a bulk fetch got no stored token; ``failures`` maps each to its error."""

    def __init__(self, instance_id: str, failures: dict[str, ConnectFederationError]) -> None:
        lines = "\n".join(f"  {user}: {type(error).__name__}: {error}" for user, error in failures.items())
        super().__init__(
            f"{len(failures)} Connect user(s) on instance {instance_id!r} got no stored token:\n{lines}\n"
            "Fix them, or pass allow_partial_failure=True to keep the others' tokens without failing."
        )
        self.instance_id = instance_id
        self.failures = failures

    def __reduce__(self) -> tuple[type[BulkFederationError], tuple[str, dict[str, ConnectFederationError]]]:
        """Rebuilt from its arguments, so it survives pickling (process pools, Celery results)."""
        return type(self), (self.instance_id, self.failures)
