"""Fixtures shared by every test folder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

# Timings belong in bench/: on a loaded machine an example may take longer than
# hypothesis's 200 ms default deadline, which would fail a test for no fault of the code.
settings.register_profile("nicattach", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("nicattach")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def packager() -> ModuleType:
    """``scripts/package.py`` (a script, not a package module), loaded once."""
    spec = importlib.util.spec_from_file_location("package_script", ROOT / "scripts/package.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/support.py for every folder
