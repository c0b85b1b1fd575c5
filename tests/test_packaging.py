"""Both distributions of this repository, built as a release would build them.

The provider's wheel holds no emulator, no moto and no pytest plugin; the emulator's holds no
Airflow and carries the provider's token bucket as a real file. Both carry LICENSE and project
URLs; neither sdist ships tests.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from airflow_connect_fed import __version__ as PROVIDER_VERSION
from amazon_connect_emulator import __version__ as EMULATOR_VERSION

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"provider.whl", "provider.tar.gz", "emulator.whl", "emulator.tar.gz"}`` -> the built files."""
    if not UV.exists():
        pytest.skip(f"uv is not installed at {UV}")
    out = tmp_path_factory.mktemp("dist")
    for source in (ROOT, ROOT / "emulator"):
        subprocess.run(
            [str(UV), "build", "--quiet", "--out-dir", str(out), str(source)], check=True, timeout=600
        )
    files: dict[str, Path] = {}
    for path in [*out.glob("*.whl"), *out.glob("*.tar.gz")]:
        kind = "emulator" if path.name.startswith("amazon_connect_emulator") else "provider"
        files[f"{kind}.whl" if path.suffix == ".whl" else f"{kind}.tar.gz"] = path
    assert sorted(files) == ["emulator.tar.gz", "emulator.whl", "provider.tar.gz", "provider.whl"], files
    return files


def wheel_texts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as wheel:
        return {name: wheel.read(name).decode() for name in wheel.namelist()}


def imports(source: str, *packages: str) -> bool:
    names = "|".join(packages)
    return re.search(rf"^\s*(import|from)\s+({names})\b", source, re.MULTILINE) is not None


def sdist_names(path: Path) -> list[str]:
    with tarfile.open(path) as sdist:
        return [member.name.split("/", 1)[1] for member in sdist.getmembers() if member.isfile()]


def metadata(texts: dict[str, str]) -> dict[str, list[str]]:
    (name,) = [n for n in texts if n.endswith(".dist-info/METADATA")]
    message = Parser().parsestr(texts[name])
    return {key: message.get_all(key) or [] for key in ("Project-URL", "Requires-Dist", "License-Expression")}


def test_the_provider_wheel_is_the_provider_only(built: dict[str, Path]) -> None:
    texts = wheel_texts(built["provider.whl"])
    packages = {name.split("/")[0] for name in texts}
    assert packages == {"airflow_connect_fed", f"airflow_connect_fed-{PROVIDER_VERSION}.dist-info"}
    sources = {name: text for name, text in texts.items() if name.endswith(".py")}
    assert not [name for name, text in sources.items() if imports(text, "moto", "amazon_connect_emulator")]
    assert not [name for name in sources if "/testing/" in name]
    entry_points = texts[f"airflow_connect_fed-{PROVIDER_VERSION}.dist-info/entry_points.txt"]
    assert "pytest11" not in entry_points
    assert "[apache_airflow_provider]" in entry_points
    assert f"airflow_connect_fed-{PROVIDER_VERSION}.dist-info/licenses/LICENSE" in texts
    meta = metadata(texts)
    assert meta["License-Expression"] == ["Apache-2.0"]
    assert any(url.startswith("Documentation, https://") for url in meta["Project-URL"])
    assert not [dep for dep in meta["Requires-Dist"] if dep.startswith("moto") and "extra ==" not in dep]


def test_the_emulator_wheel_needs_no_airflow(built: dict[str, Path]) -> None:
    texts = wheel_texts(built["emulator.whl"])
    assert {name.split("/")[0] for name in texts} == {
        "amazon_connect_emulator",
        f"amazon_connect_emulator-{EMULATOR_VERSION}.dist-info",
    }
    bucket = (ROOT / "airflow_connect_fed" / "_client" / "token_bucket.py").read_text()
    assert texts["amazon_connect_emulator/token_bucket.py"] == bucket
    assert not [name for name, text in texts.items() if name.endswith(".py") and imports(text, "airflow")]
    entry_points = texts[f"amazon_connect_emulator-{EMULATOR_VERSION}.dist-info/entry_points.txt"]
    assert "connect_emulator = amazon_connect_emulator.pytest_plugin" in entry_points
    assert "amazon-connect-emulator = amazon_connect_emulator.cli:main" in entry_points
    assert f"amazon_connect_emulator-{EMULATOR_VERSION}.dist-info/licenses/LICENSE" in texts
    meta = metadata(texts)
    assert meta["License-Expression"] == ["Apache-2.0"]
    assert meta["Project-URL"]
    assert not [dep for dep in meta["Requires-Dist"] if "airflow" in dep]


@pytest.mark.parametrize("kind", ["provider", "emulator"])
def test_sdists_ship_license_and_no_tests(built: dict[str, Path], kind: str) -> None:
    names = sdist_names(built[f"{kind}.tar.gz"])
    assert "LICENSE" in names
    assert "README.md" in names
    assert not [name for name in names if name.startswith(("tests/", "emulator/")) or "/tests/" in name]


def test_the_emulator_sdist_builds_its_wheel_alone(built: dict[str, Path], tmp_path: Path) -> None:
    """From the sdist only, away from the repository, as a package index would build it."""
    with tarfile.open(built["emulator.tar.gz"]) as sdist:
        sdist.extractall(tmp_path, filter="data")
    (source,) = tmp_path.iterdir()
    out = tmp_path / "out"
    subprocess.run(
        [str(UV), "build", "--wheel", "--quiet", "--out-dir", str(out), str(source)], check=True, timeout=600
    )
    (wheel,) = out.glob("*.whl")
    assert "amazon_connect_emulator/token_bucket.py" in wheel_texts(wheel)
    shutil.rmtree(out)
