"""A synthetic agent sign-in check: the agent's token opens a session in a real headless browser.

``get_token`` stores the agent's federation token where the secrets backend reads the
Variable ``connect/agents/<agent>`` (XCom holds a reference). ``sign_in_agent`` loads it,
posts :meth:`~airflow_connect_fed.token.FederationToken.sign_in_form` from a headless
Chromium driven by Selenium, and checks that the page it lands on names the agent.

The browser is Debian's ``chromium`` with its ``chromium-driver`` (``CONNECT_CHROMIUM``,
``CONNECT_CHROMEDRIVER`` to point elsewhere): nothing is downloaded when the task runs. The
driver logs warnings only, since at INFO ChromeDriver logs each command's arguments, the
form's tokens included; the profile lives in a temporary directory removed afterwards
(``CONNECT_BROWSER_ARTIFACTS`` keeps it, the driver's log and a screenshot there instead).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_connect_fed.operators.federation_token import GetFederationTokenOperator

INSTANCE_ID = os.environ.get("CONNECT_INSTANCE_ID", "11111111-2222-3333-4444-555555555555")
ROLE_ARN = os.environ.get("CONNECT_FEDERATION_ROLE_ARN", "arn:aws:iam::123456789012:role/ConnectFederation")
CONNECT_USER = os.environ.get("CONNECT_AGENT", "agent-1")
#: The page's text that shows the agent is signed in: on a real instance, pick what its CCP shows.
SIGNED_IN_TEXT = os.environ.get("CONNECT_SIGNED_IN_TEXT", CONNECT_USER)
CHROMIUM = os.environ.get("CONNECT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CONNECT_CHROMEDRIVER", "/usr/bin/chromedriver")

# [START howto_sign_in_form_post]
#: Builds the form in the page and submits it: a top-level POST, as a browser submits any form.
POST_FORM = """
const [url, fields] = arguments;
const form = document.createElement("form");
form.method = "POST";
form.action = url;
for (const [name, value] of Object.entries(fields)) {
  const input = document.createElement("input");
  input.type = "hidden";
  input.name = name;
  input.value = value;
  form.appendChild(input);
}
document.body.appendChild(form);
form.submit();
"""
# [END howto_sign_in_form_post]


def _browser(artifacts: str):  # returns a selenium WebDriver; selenium is imported in the task only
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,800"):
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={artifacts}/profile")
    service = Service(
        CHROMEDRIVER, log_output=f"{artifacts}/chromedriver.log", service_args=["--log-level=WARNING"]
    )
    return webdriver.Chrome(service=service, options=options)


with DAG(
    dag_id="example_connect_federation_sign_in",
    schedule=timedelta(hours=1),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "amazon-connect"],
):
    get_token = GetFederationTokenOperator(
        task_id="get_token",
        instance_id=INSTANCE_ID,
        connect_user=CONNECT_USER,
        role_arn=ROLE_ARN,
        secret_key="connect/agents/{user}",
        reuse_if_valid_for=timedelta(minutes=10),  # the sign-in right after needs minutes, not hours
    )

    # [START howto_sign_in_agent]
    @task
    def sign_in_agent(reference: dict) -> dict:
        """Sign the agent in with its token in headless Chromium; fail unless the page names the agent."""
        import tempfile

        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        from airflow_connect_fed import load_federation_token

        token = load_federation_token(reference)  # masked in the task log from here on
        form = token.sign_in_form(destination="/ccp-v2")
        kept = os.environ.get("CONNECT_BROWSER_ARTIFACTS")
        with tempfile.TemporaryDirectory() as scratch:
            artifacts = kept or scratch
            browser = _browser(artifacts)
            try:
                browser.get("about:blank")
                browser.execute_script(POST_FORM, form.url, dict(form.fields))
                try:
                    WebDriverWait(browser, 30).until(
                        lambda b: SIGNED_IN_TEXT in b.find_element("tag name", "body").text
                    )
                except TimeoutException:
                    raise RuntimeError(
                        f"{CONNECT_USER} did not get signed in: after 30 s the browser is on {browser.current_url} "
                        f"({browser.title!r}), whose text does not contain {SIGNED_IN_TEXT!r}."
                    ) from None
                landed_on = browser.current_url
                browser.save_screenshot(f"{artifacts}/signed-in.png")
            finally:
                browser.quit()
        print(f"{CONNECT_USER} signed in: the browser landed on {landed_on}, which names the agent.")
        return {"agent": CONNECT_USER, "user_arn": token.user_arn, "landed_on": landed_on}

    # [END howto_sign_in_agent]

    sign_in_agent(get_token.output)
