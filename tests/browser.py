"""Debian's Chromium and its driver, which the browser tests drive: skipped without them, unless required.

``make test`` installs both packages when missing and sets ``CONNECT_FED_REQUIRE_BROWSER=1``, so there
a missing browser fails the run instead of skipping its tests.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PACKAGES = "chromium chromium-driver"


def require_browser() -> None:
    """Skip the calling test or module (fail it under ``CONNECT_FED_REQUIRE_BROWSER=1``) without the browser."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the selenium package (the e2e extra)")
    if not missing:
        return
    reason = f"{', '.join(missing)} not found: apt-get install -y {PACKAGES}, pip install selenium"
    if os.environ.get("CONNECT_FED_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason, allow_module_level=True)
