"""docs/guest-networking.md's recipe (section 6) is rendered and checked: the cloud-config
parses as YAML and has what cloud-init needs, each file it writes is valid in its own format
(the NetworkManager keyfile as INI with the keys and rules NetworkManager reads, the sysctl
file as key = value lines, the dispatcher script through ``sh -n``), and the permissions are
the ones NetworkManager insists on."""

from __future__ import annotations

import configparser
import ipaddress
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "guest-networking.md").read_text(encoding="utf-8")
MAC = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){5}$", re.I)
RULE = re.compile(r"^priority (\d+) from (\S+) table (\d+)$")
SYSCTL = re.compile(r"^net\.[a-z0-9_.]+ = \d+$")


def recipe() -> dict[str, Any]:
    section = DOC.split("## 6. ", 1)[1]
    (block,) = re.findall(r"^```yaml\n(.*?)^```", section, re.M | re.S)
    assert block.startswith("#cloud-config\n"), "cloud-init reads user data only with this line"
    document = yaml.safe_load(block)
    assert isinstance(document, dict)
    return document


def files() -> dict[str, dict[str, Any]]:
    return {entry["path"]: entry for entry in recipe()["write_files"]}


def keyfile() -> tuple[dict[str, Any], configparser.ConfigParser]:
    (entry,) = [e for p, e in files().items() if p.endswith(".nmconnection")]
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(entry["content"])
    return entry, parser


def test_cloud_init_renders_on_hotplug_and_runs_its_commands() -> None:
    document = recipe()
    assert "hotplug" in document["updates"]["network"]["when"]
    assert all(isinstance(command, list) for command in document["runcmd"])
    assert all(path.startswith("/etc/") for path in files())


def test_the_networkmanager_keyfile_is_one_ethernet_profile_pinned_by_mac() -> None:
    entry, profile = keyfile()
    assert entry["path"].startswith("/etc/NetworkManager/system-connections/")
    assert (entry["owner"], entry["permissions"]) == ("root:root", "0600")  # else NM ignores it
    assert set(profile.sections()) == {"connection", "ethernet", "ipv4", "ipv6"}
    assert profile["connection"]["type"] == "ethernet"
    assert profile["connection"]["autoconnect"] == "true"
    assert MAC.match(profile["ethernet"]["mac-address"])
    assert profile["ipv4"]["method"] in ("auto", "manual")
    assert profile["ipv6"]["method"] in ("auto", "dhcp", "manual")


def test_the_keyfile_routes_into_its_own_table_and_the_rule_points_there() -> None:
    _, profile = keyfile()
    table = int(profile["ipv4"]["route-table"])
    assert 0 < table < 253  # not main (254), local (255) nor default (253)
    assert int(profile["ipv6"]["route-table"]) == table
    rules = [value for key, value in profile["ipv4"].items() if key.startswith("routing-rule")]
    assert rules
    for rule in rules:
        found = RULE.match(rule)
        assert found, rule
        priority, source, rule_table = found.groups()
        assert 0 < int(priority) < 32766  # before the main table's rule
        assert ipaddress.ip_network(source).version == 4
        assert int(rule_table) == table


def test_the_sysctl_file_is_key_value_lines() -> None:
    (entry,) = [e for p, e in files().items() if p.startswith("/etc/sysctl.d/")]
    assert entry["path"].endswith(".conf")
    lines = [line for line in entry["content"].splitlines() if line.strip()]
    assert lines and all(SYSCTL.match(line) for line in lines), lines


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell here")
def test_the_dispatcher_script_is_valid_shell_and_executable_by_root(tmp_path: Path) -> None:
    (entry,) = [e for p, e in files().items() if "/dispatcher.d/" in p]
    assert (entry["owner"], entry["permissions"]) == ("root:root", "0755")
    assert entry["content"].startswith("#!/bin/sh\n")
    script = tmp_path / "dispatcher"
    script.write_text(entry["content"])
    checked = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
