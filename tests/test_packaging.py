"""Both distributions of this repository, built as a release would build them.

The provider's wheel holds no emulator, no moto and no pytest plugin; the emulator's holds no
Airflow and throttles with its own token bucket, not a copy of the provider's pacing one (so it
judges the client's pacing independently). Neither imports the other. Both carry LICENSE and
project URLs; neither sdist ships tests. The repository holds no symlink, which would ship one
file in both.
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


def sdist_sources(path: Path) -> dict[str, str]:
    """The sdist's regular ``.py`` files (a symlink is not one), by path inside the source tree."""
    sources = {}
    with tarfile.open(path) as sdist:
        for member in sdist.getmembers():
            if member.isfile() and member.name.endswith(".py"):
                content = sdist.extractfile(member)
                assert content is not None
                sources[member.name.split("/", 1)[1]] = content.read().decode()
    return sources


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
    assert not [name for name, text in texts.items() if name.endswith(".py") and imports(text, "airflow")]
    entry_points = texts[f"amazon_connect_emulator-{EMULATOR_VERSION}.dist-info/entry_points.txt"]
    assert "connect_emulator = amazon_connect_emulator.pytest_plugin" in entry_points
    assert "amazon-connect-emulator = amazon_connect_emulator.cli:main" in entry_points
    assert f"amazon_connect_emulator-{EMULATOR_VERSION}.dist-info/licenses/LICENSE" in texts
    meta = metadata(texts)
    assert meta["License-Expression"] == ["Apache-2.0"]
    assert meta["Project-URL"]
    assert not [dep for dep in meta["Requires-Dist"] if "airflow" in dep]


EMULATOR_BUCKET = "amazon_connect_emulator/token_bucket.py"


def test_the_emulator_ships_its_own_token_bucket(built: dict[str, Path]) -> None:
    own = (ROOT / "emulator" / EMULATOR_BUCKET).read_text()
    provider = (ROOT / "airflow_connect_fed" / "_client" / "token_bucket.py").read_text()
    assert own != provider
    assert wheel_texts(built["emulator.whl"])[EMULATOR_BUCKET] == own
    assert sdist_sources(built["emulator.tar.gz"])[EMULATOR_BUCKET] == own
    assert "class TokenBucket" in own
    assert "def try_take" in own


def test_neither_distribution_imports_the_other(built: dict[str, Path]) -> None:
    def sources(kind: str) -> dict[str, str]:
        """Every ``.py`` file of the wheel and of the sdist, keyed ``"<file>:<path>"``."""
        wheel = {f"{kind}.whl:{n}": text for n, text in wheel_texts(built[f"{kind}.whl"]).items()}
        sdist = {f"{kind}.tar.gz:{n}": text for n, text in sdist_sources(built[f"{kind}.tar.gz"]).items()}
        return {name: text for name, text in {**wheel, **sdist}.items() if name.endswith(".py")}

    provider, emulator = sources("provider"), sources("emulator")
    assert {"provider.whl:airflow_connect_fed/_client/token_bucket.py"} <= set(provider)
    assert {f"emulator.whl:{EMULATOR_BUCKET}", f"emulator.tar.gz:{EMULATOR_BUCKET}"} <= set(emulator)
    assert [name for name, text in provider.items() if imports(text, "amazon_connect_emulator")] == []
    # "airflow" alone does not match "airflow_connect_fed": there is no word boundary before the "_".
    assert [name for name, text in emulator.items() if imports(text, "airflow_connect_fed", "airflow")] == []


def test_the_git_index_holds_no_symlink() -> None:
    """A symlink (mode 120000) would ship one file, e.g. a token bucket, in both distributions."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    listed = subprocess.run(
        [git, "-C", str(ROOT), "ls-files", "--stage"], capture_output=True, text=True, timeout=60, check=False
    )
    if listed.returncode != 0:
        pytest.skip(f"{ROOT} is not a git checkout: {listed.stderr.strip()}")
    entries = listed.stdout.splitlines()
    assert any(line.endswith("\temulator/" + EMULATOR_BUCKET) for line in entries)
    assert [line for line in entries if line.startswith("120000 ")] == []


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
    assert wheel_texts(wheel)[EMULATOR_BUCKET] == (ROOT / "emulator" / EMULATOR_BUCKET).read_text()
    shutil.rmtree(out)
