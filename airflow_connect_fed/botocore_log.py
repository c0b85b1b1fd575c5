"""Keep federation tokens out of botocore's DEBUG log.

botocore logs every raw response body at DEBUG (``botocore.parsers``), before
the caller can register the tokens with the secret masker. This filter replaces
any body that carries Connect federation tokens.
"""

from __future__ import annotations

import logging

_TOKEN_FIELDS = (b'"AccessToken"', b'"RefreshToken"')
_WITHHELD = "<withheld: the body holds Amazon Connect federation tokens>"


class FederationBodyFilter(logging.Filter):
    """Rewrite ``Response body`` records that contain federation tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(_holds_token(arg) for arg in record.args):
            record.args = tuple(_WITHHELD if _holds_token(arg) else arg for arg in record.args)
        return True


def _holds_token(value: object) -> bool:
    if isinstance(value, str):
        value = value.encode()
    return isinstance(value, bytes) and any(field in value for field in _TOKEN_FIELDS)


def install() -> None:
    """Attach the filter to ``botocore.parsers`` once per process."""
    logger = logging.getLogger("botocore.parsers")
    if not any(isinstance(f, FederationBodyFilter) for f in logger.filters):
        logger.addFilter(FederationBodyFilter())
