"""Sphinx configuration for the airflow-connect-fed documentation.

Build (warnings are errors):

    .venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

# Importing the package imports Airflow, which wants an AIRFLOW_HOME. Keep it out of the
# user's ~/airflow: a throwaway one under the build directory, unless one is already set.
os.environ.setdefault("AIRFLOW_HOME", str(DOCS / "_build" / ".airflow_home"))

from airflow_connect_fed import __version__  # noqa: E402 - needs the path and AIRFLOW_HOME above

project = "airflow-connect-fed"
author = "airflow-connect-fed developers"
copyright = "airflow-connect-fed developers"
release = __version__
version = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

# performance.md is written by `make bench` and read on GitHub; Sphinx has no Markdown parser here.
exclude_patterns = ["_build", "performance.md"]

# Every cross-reference must resolve. The build has no network, so intersphinx cannot fetch
# other projects' inventories: references to the standard library, botocore and Airflow, and
# the short names that postponed annotations leave in signatures, are accepted as they are.
nitpicky = True
nitpick_ignore_regex = [
    ("py:class", r"(datetime|collections\.abc|os|subprocess|botocore|airflow)\..+"),
    ("py:class", r"timedelta|Context|Config|FederationToken|Seeded|exc\.ConnectFederationError"),
    # The service logic behind the hook is private and not documented as API.
    ("py:class", r"airflow_connect_fed\._client\..+"),
    # The operators' private common base, shown in their "Bases:" line.
    ("py:class", r"airflow_connect_fed\.operators\.federation_token\._FederationOperator"),
]
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_class_signature = "mixed"
autodoc_inherit_docstrings = False

pygments_style = "sphinx"
highlight_language = "python3"

html_theme = "alabaster"
html_title = f"airflow-connect-fed {release}"
html_static_path = ["_static"]
html_css_files = ["tables.css"]
html_theme_options = {
    "description": "Amazon Connect federation tokens for Apache Airflow 3",
    "fixed_sidebar": True,
    "show_relbars": True,
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
