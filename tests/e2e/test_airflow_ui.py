"""The Airflow UI in a real headless Chromium: the task's XCom and log views show no token.

The README's first DAG runs as in ``test_workers_secrets_backend.py``: ``airflow api-server`` in
the background and ``airflow dags test --use-executor`` against the emulator, the token stored
in Secrets Manager. The api-server then keeps serving the UI with Airflow's simple auth manager
and one ``viewer`` user whose password is in a file of the test. Selenium opens the ``get_token``
task's XCom view, is sent to the login form, signs in, and reads the XCom view and the log view
(the task page's Logs tab): the XCom reference and the operator's log line are shown, neither
token is, in the page text or source, nor in the screenshots or Chromium's profile afterwards.

The screenshots go to the test's temporary directory; with ``CONNECT_FED_UPDATE_SCREENSHOTS=1``
also to ``docs/_static/screenshots/airflow-ui-{xcom,log}.png``, which the docs show. Chromium and
its driver are Debian's (``chromium``, ``chromium-driver``), named explicitly: Selenium Manager
never runs, nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from airflow_connect_fed.token import FederationToken
from amazon_connect_emulator import ConnectEmulator
from tests.browser import CHROMEDRIVER, CHROMIUM, require_browser
from tests.e2e.components import ScheduledAirflow
from tests.test_readme import first_dag

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

require_browser()

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

DAG_ID = "connect_agent_token"
TASK_ID = "get_token"
SECRET_KEY = "connect/agents/agent-1"
SECRET_ID = f"airflow/variables/{SECRET_KEY}"
USER = "viewer"  # the simple auth manager's read-only role: anyone who may read the DAG
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
DOCS_SCREENSHOTS = Path(__file__).parents[2] / "docs" / "_static" / "screenshots"
UPDATE_SCREENSHOTS = os.environ.get("CONNECT_FED_UPDATE_SCREENSHOTS") == "1"
XCOM_PNG, LOG_PNG = "airflow-ui-xcom.png", "airflow-ui-log.png"
PAGE_TIMEOUT = 60.0


@dataclass
class Deployment:
    """The api-server after the DAG ran: the UI's address, the sign-in, what the run left."""

    base_url: str
    password: str
    run_id: str
    reference: dict  # get_token's XCom, as the metadata DB holds it
    tokens: list[str]  # the access and the refresh token, as Secrets Manager holds them

    def task_url(self, tab: str = "") -> str:
        """The React UI's task instance page (its first tab is Logs), or another tab of it."""
        url = f"{self.base_url}/dags/{DAG_ID}/runs/{quote(self.run_id, safe='')}/tasks/{TASK_ID}"
        return f"{url}/{tab}" if tab else url


@dataclass
class View:
    text: str  # document.body.innerText
    source: str
    screenshot: Path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """Run the README's first DAG, then keep the api-server up with sign-in by password."""
    root = tmp_path_factory.mktemp("airflow")
    dags = root / "dags"
    dags.mkdir()
    (dags / "readme_dag.py").write_text(first_dag())
    password = secrets.token_urlsafe(16)
    passwords_file = root / "passwords.json"
    passwords_file.write_text(json.dumps({USER: password}))
    with ConnectEmulator() as emulator:
        emulator.reset()
        emulator.seed()  # the README's instance, agent-1 and role
        airflow = ScheduledAirflow(
            emulator,
            root / "home",
            dags,
            output_dir=root / "output",
            credentials=emulator.federator_credentials(),
            extra_env={
                "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:viewer",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                "AIRFLOW__API__DEFAULT_WRAP": "True",  # log lines wrapped: readable screenshots
            },
        )
        airflow.migrate()
        try:
            airflow.start("api-server", "api-server", "--port", str(airflow.api_port), "--workers", "1")
            airflow.wait_for_api_server()
            result = subprocess.run(
                [sys.executable, "-m", "airflow", "dags", "test", DAG_ID, "--use-executor"],
                env=airflow.env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            states = airflow.rows("SELECT task_id, state FROM task_instance WHERE dag_id = ?", DAG_ID)
            assert sorted(states) == [(TASK_ID, "success"), ("use", "success")], (
                result.stdout[-3000:] + result.stderr[-3000:]
            )
            ((run_id, value),) = airflow.rows(
                "SELECT run_id, value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = 'return_value'",
                DAG_ID,
                TASK_ID,
            )
            secret = emulator.client("secretsmanager").get_secret_value(SecretId=SECRET_ID)
            token = FederationToken.from_dict(json.loads(secret["SecretString"]))
            assert token.is_valid()
            yield Deployment(
                base_url=f"http://127.0.0.1:{airflow.api_port}",
                password=password,
                run_id=run_id,
                reference=json.loads(value),
                tokens=[token.access_token, token.refresh_token],
            )
        finally:
            airflow.stop_all()


class Chromium:
    """Headless Debian Chromium under Debian's chromedriver, its profile in ``profile_dir``."""

    def __init__(self, profile_dir: Path) -> None:
        self.profile_dir = profile_dir
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in (
            "--headless=new",
            "--no-sandbox",  # root in a container
            "--disable-dev-shm-usage",
            "--window-size=1400,1000",
            f"--user-data-dir={profile_dir}",
        ):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.running = True

    def quit(self) -> None:
        if self.running:
            self.running = False
            self.driver.quit()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield chromium
    finally:
        chromium.quit()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def page_text(driver) -> str:
    return driver.execute_script("return document.body.innerText")


def wait_until(driver, condition, what: str) -> None:
    try:
        WebDriverWait(driver, PAGE_TIMEOUT).until(condition)
    except TimeoutException as error:
        raise AssertionError(
            f"{driver.current_url}: not {what} within {PAGE_TIMEOUT:.0f} s; the page shows:\n{page_text(driver)}"
        ) from error


def capture(driver, screenshots: Path, name: str) -> View:
    path = screenshots / name
    assert driver.save_screenshot(str(path)), f"no screenshot of {driver.current_url}"
    if UPDATE_SCREENSHOTS:
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / name)
    return View(page_text(driver), driver.page_source, path)


def squash(text: str) -> str:
    """``text`` without whitespace: the XCom editor breaks long values over lines."""
    return re.sub(r"\s+", "", text)


def assert_no_token(view: View, tokens: list[str]) -> None:
    for token in tokens:
        assert token not in view.text
        assert token not in squash(view.text)
        assert token not in view.source


@pytest.fixture(scope="module")
def signed_in(deployment, browser):
    """Open the XCom view signed out, get sent to the login form, sign in as ``viewer``."""
    driver = browser.driver
    driver.get(deployment.task_url("xcom"))
    wait_until(driver, lambda d: d.find_elements(By.NAME, "username"), "at the login form")
    assert "/auth/login" in driver.current_url
    driver.find_element(By.NAME, "username").send_keys(USER)
    driver.find_element(By.NAME, "password").send_keys(deployment.password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until(driver, lambda d: d.current_url == deployment.task_url("xcom"), "back from the login form")
    return driver


@pytest.fixture(scope="module")
def xcom_view(deployment, signed_in, screenshots) -> View:
    """get_token's XCom (the task page's Storage > XCom tab), its value expanded."""
    signed_in.get(deployment.task_url("xcom"))
    value = (By.CSS_SELECTOR, "[data-testid=xcom-value]")
    wait_until(signed_in, lambda d: d.find_elements(*value), "showing the XCom")
    signed_in.find_element(By.CSS_SELECTOR, "[data-testid=expand-all-button]").click()
    # the JSON editor is in a collapsed box that opens to the editor's full height
    wait_until(
        signed_in,
        lambda d: d.execute_script(
            "const box = document.querySelector('[data-testid=xcom-value]');"
            "const editor = box.querySelector('.monaco-editor');"
            "return editor && box.getBoundingClientRect().height >= editor.getBoundingClientRect().height;"
        ),
        "showing the XCom value",
    )
    return capture(signed_in, screenshots, XCOM_PNG)


@pytest.fixture(scope="module")
def log_view(deployment, signed_in, screenshots) -> View:
    """get_token's log: the task page's first tab, Logs."""
    signed_in.get(deployment.task_url())
    wait_until(signed_in, lambda d: "Stored the token in" in page_text(d), "showing the task log")
    return capture(signed_in, screenshots, LOG_PNG)


def test_the_xcom_view_shows_the_reference_and_no_token(deployment, xcom_view):
    reference = deployment.reference
    assert reference["kind"] == "secrets_backend"
    assert reference["secret_key"] == SECRET_KEY
    assert reference["secret_id"] == SECRET_ID
    assert "return_value" in xcom_view.text
    for field in ("kind", "secret_key", "secret_id", "version_id", "instance_id", "user_arn", "user_id"):
        assert f'"{field}":' in xcom_view.text
        assert f'"{reference[field]}"' in squash(xcom_view.text)
    assert_no_token(xcom_view, deployment.tokens)


def test_the_log_view_shows_the_operator_log_and_no_token(deployment, log_view):
    reference = deployment.reference
    stored = f"Stored the token in Variable '{SECRET_KEY}': secret '{SECRET_ID}' (version {reference['version_id']})"
    assert stored in log_view.text
    assert f"Got a federation token for {reference['user_arn']}" in log_view.text
    assert_no_token(log_view, deployment.tokens)


def gunzipped(data: bytes) -> bytes:
    """Every gzip stream inside ``data``, decompressed: the api-server gzips answers over 1 KiB and
    Chromium caches them as sent."""
    found = []
    for match in re.finditer(rb"\x1f\x8b\x08", data):
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            found.append(decompressor.decompress(data[match.start() :]))
        except zlib.error:
            continue
    return b"".join(found)


@pytest.mark.usefixtures("xcom_view", "log_view")  # both views seen and saved first
def test_no_token_in_the_screenshots_or_the_browser_profile(deployment, browser, screenshots):
    browser.quit()  # Chromium writes its cache and storage out as it ends
    assert {path.name for path in screenshots.iterdir()} == {XCOM_PNG, LOG_PNG}
    folders = [screenshots, browser.profile_dir, *([DOCS_SCREENSHOTS] if UPDATE_SCREENSHOTS else [])]
    files = [path for folder in folders for path in folder.rglob("*") if path.is_file()]
    contents = {path: (data := path.read_bytes()) + gunzipped(data) for path in files}
    # the scan sees what the UI fetched: Chromium's cache holds the XCom answer, reference and all
    assert any(SECRET_ID.encode() in data for data in contents.values()), sorted(map(str, files))
    tokens = [token.encode() for token in deployment.tokens]
    assert [str(path) for path, data in contents.items() if any(t in data for t in tokens)] == []
