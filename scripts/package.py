"""Build the FunctionGraph package: ``function/`` plus its runtime dependencies, zipped.

    python scripts/package.py [--policy FILE] [--python-version 3.10] [--output ZIP]

Layout (the root is FunctionGraph's code directory, ``RUNTIME_CODE_ROOT``)::

    index.py        handler ``index.handler`` = function.main.handler
    policy.yaml     the policy (NICATTACH_POLICY=/opt/function/code/policy.yaml)
    function/       the package, without caches
    urllib3/ yaml/ cloudevents/ ...    pip install --target, for the runtime's Python

Only the runtime dependencies of pyproject.toml go in, minus the HTTP stack
(functions-framework, and with it flask and gunicorn): ``handler`` does not need it.
Versions are pinned to the ones installed here, the set the tests ran against.
The staging folder (``build/functiongraph``) is what serverless.yml's ``code.codeUri``
names; the zip (``dist/nic-autoattach-functiongraph.zip``) is for console or OBS upload.

A package the function cannot start from is never written: the policy is checked first
(``nic-autoattach validate``, the same check the function runs at start-up), everything is
built in a temporary folder beside the staging folder, and the staging folder and the zip
are replaced only once the whole build has succeeded. Any failure is one line on stderr
and exit status 1, with the previous staging folder and zip left as they were.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGING = ROOT / "build" / "functiongraph"
OUTPUT = ROOT / "dist" / "nic-autoattach-functiongraph.zip"
DEFAULT_POLICY = ROOT / "examples" / "policy.yaml"
#: Dependencies the FunctionGraph handler does not import.
HTTP_ONLY = frozenset({"functions-framework"})
#: The zip's timestamps, so the same inputs give the same bytes.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


class PackageError(Exception):
    """The package cannot be built; the message is the one line shown to the user."""


INDEX_PY = '''"""FunctionGraph entry point (handler ``index.handler``): see function/main.py."""

from function.main import handler

__all__ = ["handler"]
'''


def runtime_requirements() -> list[str]:
    """pyproject's ``[project].dependencies`` (as installed here), minus the HTTP-only ones."""
    requires = metadata.requires("nic-autoattach") or []
    deps = [r for r in requires if "extra ==" not in r]
    return [d for d in deps if _name(d) not in HTTP_ONLY]


def target_python(serverless_yml: Path = ROOT / "serverless.yml") -> str:
    """The runtime serverless.yml deploys to, e.g. ``Python3.10`` -> ``3.10``."""
    import yaml  # the dev environment has it (a runtime dependency)

    runtime = str(yaml.safe_load(serverless_yml.read_text())["provider"]["runtime"])
    match = re.fullmatch(r"Python(\d+\.\d+)", runtime)
    if match is None:
        raise PackageError(f"{serverless_yml}: provider.runtime is not Python3.x")
    return match.group(1)


def check_policy(policy: Path) -> None:
    """Raise ``PackageError`` unless ``nic-autoattach validate POLICY`` accepts the policy.

    The command, not an import, so this script keeps working whatever ``function/``'s layout.
    """
    done = subprocess.run([_cli(), "validate", str(policy)], capture_output=True, text=True)
    if done.returncode == 0:
        return
    problems = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    if len(problems) == 1:
        raise PackageError(problems[0])
    raise PackageError(
        f"{policy}: {len(problems)} problems in the policy, the first: "
        f"{problems[0].removeprefix(f'{policy}: ')} (all: nic-autoattach validate {policy})"
    )


def _cli() -> str:
    """The ``nic-autoattach`` command of this environment (the venv running this script)."""
    beside = Path(sys.executable).parent / "nic-autoattach"
    found = str(beside) if beside.exists() else shutil.which("nic-autoattach")
    if found is None:
        raise PackageError("nic-autoattach is not installed here: run make package")
    return found


def stage_code(dest: Path, policy: Path = DEFAULT_POLICY) -> None:
    """``index.py``, ``policy.yaml`` and ``function/`` (no dependencies) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        ROOT / "function",
        dest / "function",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )
    (dest / "index.py").write_text(INDEX_PY)
    shutil.copyfile(policy, dest / "policy.yaml")


def install_dependencies(dest: Path, python_version: str, platform: str) -> None:
    """``pip install --target`` the runtime dependencies, binary wheels for the runtime only."""
    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text("".join(f"{pin}\n" for pin in _installed_pins()))
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        where = ["--no-compile", "--target", str(dest), "--constraint", str(constraints)]
        wheels = ["--only-binary=:all:", "--implementation", "cp", "--platform", platform]
        command = [
            *pip,
            *where,
            *wheels,
            "--python-version",
            python_version,
            *runtime_requirements(),
        ]
        subprocess.run(
            command,
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PIP_NO_INPUT": "1"},
        )
    shutil.rmtree(dest / "bin", ignore_errors=True)  # console scripts: useless in a function
    for cache in dest.rglob("__pycache__"):
        shutil.rmtree(cache)


def compile_bytecode(dest: Path, python_version: str) -> bool:
    """Ship ``.pyc`` files when this interpreter is the runtime's version.

    FunctionGraph's code folder is read-only, so without them every cold start compiles
    every module again. ``unchecked-hash`` pycs stay valid whatever the unpacked mtimes.
    """
    if python_version != "{}.{}".format(*sys.version_info[:2]):
        return False
    compileall = [sys.executable, "-m", "compileall", "-q"]
    command = [*compileall, "--invalidation-mode", "unchecked-hash", str(dest)]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return True


def write_zip(source: Path, output: Path) -> int:
    """Zip ``source`` (sorted, fixed timestamps); return the zip's size in bytes."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), ZIP_TIME)
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return output.stat().st_size


def build(
    staging: Path = STAGING,
    output: Path = OUTPUT,
    *,
    policy: Path = DEFAULT_POLICY,
    python_version: str | None = None,
    platform: str = "manylinux2014_x86_64",
) -> int:
    """Check the policy, build afresh in a temporary folder, then replace ``staging`` and
    ``output``; return the zip's size. On any failure both are left as they were."""
    check_policy(policy)
    version = python_version or target_python()
    staging.parent.mkdir(parents=True, exist_ok=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{staging.name}-", dir=staging.parent) as tmp:
        fresh = Path(tmp) / staging.name
        stage_code(fresh, policy)
        install_dependencies(fresh, version, platform)
        if not compile_bytecode(fresh, version):
            here = "{}.{}".format(*sys.version_info[:2])
            print(
                f"package: no .pyc files (this is Python {here}, the runtime {version}): "
                "the first import compiles every module",
                file=sys.stderr,
            )
        partial = output.with_name(f".{output.name}.partial")
        try:
            size = write_zip(fresh, partial)
            _swap_folder(fresh, staging, Path(tmp) / "previous")
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)
    return size


def _swap_folder(fresh: Path, dest: Path, trash: Path) -> None:
    """Put ``fresh`` where ``dest`` is (two renames on one file system); old one to ``trash``."""
    if dest.exists():
        dest.rename(trash)
    fresh.rename(dest)


def _shown(path: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)


def is_example(policy: Path) -> bool:
    """A policy of the repository's examples/ folder (made-up network ids)."""
    return policy.resolve().is_relative_to((ROOT / "examples").resolve())


def _installed_pins() -> list[str]:
    """``name==version`` for every distribution installed here (the tested versions)."""
    pins = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and not (dist.read_text("direct_url.json") or ""):  # skip editable installs
            pins[_name(name)] = f"{_name(name)}=={dist.version}"
    return sorted(pins.values())


def _name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else requirement


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/package.py", description=__doc__.split("\n")[0])
    parser.add_argument("--policy", type=Path, default=DEFAULT_POLICY, help="policy to ship")
    parser.add_argument("--python-version", help="default: serverless.yml's runtime")
    parser.add_argument("--platform", default="manylinux2014_x86_64")
    parser.add_argument("--staging", type=Path, default=STAGING)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if is_example(args.policy) and os.environ.get("ALLOW_EXAMPLE_POLICY") != "1":
        print(
            f"package: refusing the example policy {_shown(args.policy)} (made-up networks): "
            "choose yours with POLICY=... (make) or --policy, or set ALLOW_EXAMPLE_POLICY=1",
            file=sys.stderr,
        )
        return 2
    try:
        version = args.python_version or target_python()
        size = build(
            args.staging,
            args.output,
            policy=args.policy,
            python_version=version,
            platform=args.platform,
        )
    except (PackageError, OSError, subprocess.CalledProcessError) as exc:
        print(f"package: failed, nothing replaced: {_one_line(exc)}", file=sys.stderr)
        return 1
    unpacked = sum(p.stat().st_size for p in args.staging.rglob("*") if p.is_file())
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(
        f"{shown}: {size / 1e6:.2f} MB ({unpacked / 1e6:.2f} MB unpacked; "
        f"Python {version}, {args.platform})"
    )
    return 0


def _one_line(exc: BaseException) -> str:
    """The failure as one line: a failed command's first error line, else the message."""
    if isinstance(exc, subprocess.CalledProcessError):
        command = exc.cmd[2] if exc.cmd[1:2] == ["-m"] else Path(exc.cmd[0]).name
        lines = [x.strip() for x in f"{exc.stdout or ''}\n{exc.stderr or ''}".split("\n")]
        lines = [x for x in lines if x] or ["no output"]
        said = next((x for x in lines if x.startswith("ERROR")), lines[-1])
        return f"{command} exited {exc.returncode}: {said}"
    return " ".join(str(exc).split())


if __name__ == "__main__":
    raise SystemExit(main())
