"""Hook for Amazon Connect's GetFederationToken, and SearchUsers for the roster, on top of the amazon
provider's AwsBaseHook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

from airflow_connect_fed._client.federation import DEFAULT_RETRIES, AwsAccess, FederationClient
from airflow_connect_fed._client.roster import UserCriteria

if TYPE_CHECKING:
    from collections.abc import Callable

    from botocore.config import Config

    from airflow_connect_fed import exceptions as exc
    from airflow_connect_fed.session_lifetimes import SessionDurations
    from airflow_connect_fed.token import FederationToken


class ConnectFederationHook(AwsBaseHook):
    """Get Amazon Connect federation tokens (``GetFederationToken``) through an Airflow ``aws`` connection.

    The token belongs to the Connect user that matches the calling IAM identity.
    For a token of a given agent, pass ``connect_user`` and ``role_arn``: the hook
    assumes the role with ``RoleSessionName=connect_user`` and calls as that session.
    ``list_connect_users`` lists the instance's users (Connect's ``SearchUsers``) as the connection's identity.

    Throttling and 5xx answers are retried with botocore's ``standard`` retry mode
    (5 attempts) unless ``config`` or the connection's ``config_kwargs`` set ``retries``.

    :param aws_conn_id: Airflow ``aws`` connection to call with.
    :param region_name: AWS region; when ``instance_id`` is an ARN its region is used if this is unset.
    :param verify: whether to verify SSL certificates, or a CA bundle path.
    :param config: botocore ``Config`` (or its keyword dict) for the clients.
    :param shared_quota_conn_id: Airflow ``redis`` connection holding the deployment-wide quota;
        default ``[connect_federation] shared_quota_conn_id``. Unset: pacing in this process only.
        Each operation (GetFederationToken, SearchUsers) has its own quota there.
    """

    conn_type = "aws"
    hook_name = "Amazon Connect Federation"

    def __init__(
        self,
        aws_conn_id: str | None = AwsBaseHook.default_conn_name,
        region_name: str | None = None,
        verify: bool | str | None = None,
        config: Config | dict[str, Any] | None = None,
        shared_quota_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.shared_quota_conn_id = shared_quota_conn_id
        self._explicit_region = region_name
        self._federation: FederationClient | None = None
        kwargs["client_type"] = "connect"
        super().__init__(
            aws_conn_id=aws_conn_id, region_name=region_name, verify=verify, config=config, **kwargs
        )

    @property
    def config(self) -> Config:
        """The botocore config, with standard-mode retries unless retries were configured."""
        config = super().config
        if getattr(config, "retries", None):  # not in botocore's type stubs
            return config
        return config.merge(DEFAULT_RETRIES)

    def get_federation_token(
        self, instance_id: str, *, connect_user: str | None = None, role_arn: str | None = None
    ) -> FederationToken:
        """Return the federation token of the calling identity, or of ``connect_user`` via ``role_arn``.

        :param instance_id: Connect instance ID or instance ARN.
        :param connect_user: Connect username; the role session is named after it.
        :param role_arn: IAM role whose sessions map to Connect users (required with ``connect_user``).
        """
        return self.federation.get_federation_token(
            instance_id,
            connect_user=connect_user,
            role_arn=role_arn,
            shared_quota_conn_id=self.shared_quota_conn_id,
        )

    def get_federation_tokens(
        self,
        instance_id: str,
        connect_users: list[str],
        *,
        role_arn: str,
        requests_per_second: float | None = None,
        burst: int | None = None,
        max_workers: int = 4,
        on_token: Callable[[str, FederationToken], None] | None = None,
    ) -> dict[str, FederationToken | exc.ConnectFederationError]:
        """Get a token for each Connect user, paced to the GetFederationToken quota.

        One token bucket paces every attempt (retries included) of every user; a
        throttled answer empties it, so all callers back off. A user's error is
        returned as that user's value and does not stop the others.

        :param instance_id: Connect instance ID or instance ARN.
        :param connect_users: Connect usernames; each becomes the session name of ``role_arn``.
        :param role_arn: IAM role whose sessions map to Connect users.
        :param requests_per_second: sustained GetFederationToken rate for this account and region
            (default ``[connect_federation] requests_per_second``, 2).
        :param burst: requests allowed at once before pacing starts (default ``[connect_federation] burst``, 5).
        :param max_workers: threads assuming roles and calling Connect; the bucket sets the pace.
        :param on_token: called in the worker thread with each user's token as soon as it arrives
            (e.g. to store it, so a killed task loses only the tokens in flight); a
            ``ConnectFederationError`` it raises becomes that user's value.
        """
        return self.federation.get_federation_tokens(
            instance_id,
            connect_users,
            role_arn=role_arn,
            requests_per_second=requests_per_second,
            burst=burst,
            max_workers=max_workers,
            on_token=on_token,
            shared_quota_conn_id=self.shared_quota_conn_id,
        )

    def list_connect_users(
        self,
        instance_id: str,
        *,
        routing_profile_ids: list[str] | None = None,
        security_profile_ids: list[str] | None = None,
        hierarchy_group_ids: list[str] | None = None,
        tags: dict[str, str] | None = None,
        username_prefix: str | None = None,
        requests_per_second: float | None = None,
        burst: int | None = None,
    ) -> list[str]:
        """The usernames (sorted, unique) of the instance's users matching every criterion given.

        Criteria combine with AND; the IDs of one list with OR; every tag pair must match. With none,
        every user is listed. Connect's ``SearchUsers`` answers, page by page (500 users a page), as the
        connection's own identity (it needs ``connect:SearchUsers``), each page paced to SearchUsers'
        quota, which is its own: listing takes nothing from GetFederationToken's. Bad criteria are
        refused before any request.

        :param instance_id: Connect instance ID or instance ARN.
        :param routing_profile_ids: users with any of these routing profiles (IDs).
        :param security_profile_ids: users with any of these security profiles (IDs).
        :param hierarchy_group_ids: users in any of these agent hierarchy groups (IDs; the group itself,
            not its children).
        :param tags: users carrying every one of these tags (key to value).
        :param username_prefix: users whose username starts with this text (e.g. ``"agent."``).
        :param requests_per_second: sustained SearchUsers rate for this account and region
            (default ``[connect_federation] search_users_requests_per_second``, 2).
        :param burst: SearchUsers requests allowed at once before pacing starts
            (default ``[connect_federation] search_users_burst``, 5).
        """
        criteria = UserCriteria.parse(
            routing_profile_ids=routing_profile_ids,
            security_profile_ids=security_profile_ids,
            hierarchy_group_ids=hierarchy_group_ids,
            tags=tags,
            username_prefix=username_prefix,
        )
        return self.federation.search_users(
            instance_id,
            criteria,
            requests_per_second=requests_per_second,
            burst=burst,
            shared_quota_conn_id=self.shared_quota_conn_id,
        )

    def get_session_durations(self, instance_id: str) -> SessionDurations:
        """The session durations of the instance's default authentication profile: how long its access
        tokens (``PeriodicSessionDuration``) and refresh tokens (``MaxSessionDuration``) live.

        Needs ``connect:ListAuthenticationProfiles`` and ``connect:DescribeAuthenticationProfile``;
        without them AWS's ``AccessDeniedException`` is raised as
        :class:`~airflow_connect_fed.exceptions.AccessDeniedError`.

        :param instance_id: Connect instance ID or instance ARN.
        """
        return self.federation.session_durations(instance_id)

    def caller_arn(self) -> str:
        """The ARN of the identity the connection authenticates as (STS ``GetCallerIdentity``).

        Raises botocore's ``ClientError`` or ``BotoCoreError`` when STS cannot answer.
        """
        return self.federation.caller_arn()

    def test_connection(self) -> tuple[bool, str]:
        """Resolve the connection's identity; fail for the account root, which Connect never federates."""
        return self.federation.test_connection()

    def _connect_client(self, region: str | None) -> Any:
        if region is None or region == self.region_name:
            return self.conn
        return self.get_client_type(region_name=region)

    @property
    def federation(self) -> FederationClient:
        """The service logic, on this hook's connection (looked up on first use)."""
        if self._federation is None:
            self._federation = FederationClient(self._access, self._explicit_region)
        return self._federation

    def _access(self) -> AwsAccess:
        return AwsAccess(
            conn_id=self.aws_conn_id,
            connection=self.conn_config,
            session=lambda region: self.get_session(region_name=region),
            connect_client=self._connect_client,
            config=self.config,
            verify=self.verify,
        )
