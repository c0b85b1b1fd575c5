"""Build the docs the way Read the Docs does, from .readthedocs.yaml alone.

``make docs`` builds in ``.venv``, which holds everything the tests need, so it cannot tell whether
the published build installs enough. This script can: it reads ``.readthedocs.yaml``, creates a
fresh virtualenv in a temporary directory, replays the install steps Read the Docs runs (its own
``pip``, ``setuptools`` and ``sphinx``, then each ``python.install`` entry, in order, from the
repository root) and runs Sphinx from the directory of ``sphinx.configuration`` with the options
the file selects (``fail_on_warning`` -> ``-W --keep-going``). Run by ``make docs-as-published``
and ``make test``::

    .venv/bin/python docs/build_as_published.py [--installer uv|pip] [--keep]

Read the Docs' commands (readthedocs.org, ``readthedocs/projects/tests/test_build_tasks.py``)::

    python -m pip install --upgrade --no-cache-dir pip setuptools
    python -m pip install --upgrade --no-cache-dir sphinx
    python -m pip install --exists-action=w --no-cache-dir -r FILE              # requirements: FILE
    python -m pip install --upgrade --upgrade-strategy only-if-needed --no-cache-dir PATH[EXTRAS]
    python -m sphinx -T [-W --keep-going] -b html -d _build/doctrees -D language=en . OUT/html

``--installer pip`` runs exactly these. ``--installer uv`` (the default when uv is found, seconds
instead of minutes from a warm cache) runs ``uv pip install`` with the same meaning: uv, like pip,
reads ``-c``/``-r`` inside a requirements file relative to that file and the other paths relative
to the working directory, and keeps what is installed unless a requirement needs another version.
Both install quietly and Sphinx runs with ``-q`` (warnings are still shown), and the doctrees go to
the temporary directory: a fresh checkout has none, a stale ``docs/_build`` must not hide a warning.
Keys this script does not replay (``build.jobs``, ``build.commands``, ``conda``, ``mkdocs``,
``formats``, ``method: setuptools``) are refused rather than ignored.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPHINX_BUILDERS = {"html": "html", "htmldir": "dirhtml", "dirhtml": "dirhtml", "singlehtml": "singlehtml"}
NOT_REPLAYED = {
    ("build", "jobs"),
    ("build", "commands"),
    ("conda",),
    ("mkdocs",),
    ("formats",),
}


class ConfigError(Exception):
    """.readthedocs.yaml asks for something this script does not replay."""


def load_config(path: Path) -> dict[str, Any]:
    config = yaml.safe_load(path.read_text())
    if not isinstance(config, dict) or config.get("version") != 2:
        raise ConfigError(f"{path}: expected a Read the Docs configuration with 'version: 2'")
    for keys in NOT_REPLAYED:
        node: Any = config
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        if node:
            raise ConfigError(f"{path}: {'.'.join(keys)} is set; this script does not replay it (extend it)")
    if not (config.get("sphinx") or {}).get("configuration"):
        raise ConfigError(f"{path}: sphinx.configuration is not set; name the conf.py to build")
    return config


def check_python(config: dict[str, Any]) -> None:
    wanted = str(((config.get("build") or {}).get("tools") or {}).get("python", ""))
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if wanted and wanted not in (running, str(sys.version_info.major)):
        raise ConfigError(
            f"Read the Docs builds with Python {wanted} (build.tools.python); this is Python {running}: "
            f"run this script with python{wanted}"
        )


def install_commands(config: dict[str, Any], python: Path, installer: str, uv: str | None) -> list[list[str]]:
    """Read the Docs' install steps, in its order, for `installer`."""
    if installer == "pip":
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        core = [
            [*pip, "--upgrade", "--no-cache-dir", "pip", "setuptools"],
            [*pip, "--upgrade", "--no-cache-dir", "sphinx"],
        ]
    else:
        assert uv is not None
        pip = [uv, "pip", "install", "--quiet", "--python", str(python)]
        core = [[*pip, "--upgrade", "pip", "setuptools"], [*pip, "--upgrade", "sphinx"]]
    commands = core
    for entry in (config.get("python") or {}).get("install") or []:
        if "requirements" in entry:
            extra = ["--exists-action=w", "--no-cache-dir"] if installer == "pip" else []
            commands.append([*pip, *extra, "-r", str(entry["requirements"])])
        elif "path" in entry:
            method = entry.get("method", "pip")
            if method != "pip":
                raise ConfigError(f"python.install: method {method!r} is not replayed (only pip)")
            target = str(entry["path"])
            if entry.get("extra_requirements"):
                target += "[" + ",".join(entry["extra_requirements"]) + "]"
            extra = ["--upgrade", "--upgrade-strategy", "only-if-needed", "--no-cache-dir"]
            # uv keeps installed versions unless needed; a fresh virtualenv holds no copy to upgrade.
            commands.append([*pip, *(extra if installer == "pip" else []), target])
        else:
            raise ConfigError(f"python.install: entry {entry!r} has neither 'requirements' nor 'path'")
    return commands


def sphinx_command(config: dict[str, Any], python: Path, out: Path) -> list[str]:
    sphinx = config["sphinx"]
    builder = SPHINX_BUILDERS.get(sphinx.get("builder", "html"))
    if builder is None:
        raise ConfigError(
            f"sphinx.builder {sphinx['builder']!r} is not replayed ({', '.join(SPHINX_BUILDERS)})"
        )
    warnings = ["-W", "--keep-going"] if sphinx.get("fail_on_warning") else []
    return [
        str(python), "-m", "sphinx", "-T", *warnings, "-q", "-b", builder,
        "-d", str(out / "doctrees"), "-D", "language=en", ".", str(out / "_readthedocs" / "html"),
    ]  # fmt: skip


def run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    print(f"$ (cd {cwd.relative_to(ROOT) if cwd != ROOT else '.'}) {shlex.join(command)}", flush=True)
    started = time.monotonic()
    subprocess.run(command, cwd=cwd, env=env, check=True)  # noqa: S603 - our own argument lists
    print(f"  ({time.monotonic() - started:.1f} s)", flush=True)


def build_env(venv_dir: Path, out: Path) -> dict[str, str]:
    """This process's environment minus what points at another Python or Airflow, plus Read the Docs' own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"} and not key.startswith("AIRFLOW")
    }
    env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        READTHEDOCS="True",
        READTHEDOCS_VIRTUALENV_PATH=str(venv_dir),
        READTHEDOCS_OUTPUT=str(out / "_readthedocs"),
    )
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / ".readthedocs.yaml")
    default_uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    parser.add_argument("--installer", choices=["uv", "pip"], default="uv" if default_uv else "pip")
    parser.add_argument("--uv", default=default_uv, help="the uv executable (default: beside this Python)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary virtualenv and output")
    args = parser.parse_args(argv)
    if args.installer == "uv" and not args.uv:
        parser.error("--installer uv needs uv: pass --uv PATH")

    started = time.monotonic()
    out = Path(tempfile.mkdtemp(prefix="docs-as-published-"))
    try:
        config = load_config(args.config)
        check_python(config)
        venv_dir = out / "venv"
        python = venv_dir / "bin" / "python"
        env = build_env(venv_dir, out)
        run([sys.executable, "-m", "venv", str(venv_dir)], ROOT, env)
        for command in install_commands(config, python, args.installer, args.uv):
            run(command, ROOT, env)
        conf_dir = (ROOT / config["sphinx"]["configuration"]).parent
        run(sphinx_command(config, python, out), conf_dir, env)
    except ConfigError as exc:
        print(f"build_as_published: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(
            f"build_as_published: FAILED (exit {exc.returncode}): {shlex.join(exc.cmd)}\n"
            f"The docs do not build from {args.config.name} alone: see the output above.",
            file=sys.stderr,
        )
        return 1
    finally:
        if args.keep:
            print(f"kept {out}")
        else:
            shutil.rmtree(out, ignore_errors=True)
    print(f"build_as_published: the docs build from {args.config.name} ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
