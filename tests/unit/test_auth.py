"""auth.py: modes, FunctionGraph invocation credentials per thread, lazy keystoneauth1, TLS."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import certifi
import pytest

from function.auth import (
    FunctionGraphAuth,
    InvocationCredentials,
    TokenAuth,
    auth_from_settings,
    invocation,
)
from function.auth.aksk import AkSk
from function.auth.keystone import VERSION_SUFFIX, KeystoneAuth
from function.config import ConfigError, Settings
from function.domain.errors import TemporaryError
from function.transport import tls

ROOT = Path(__file__).resolve().parents[2]
URL = "https://ecs.example/v2.1/p1/servers/x"


def test_token_auth() -> None:
    auth = TokenAuth("tok-secret")
    assert auth.headers("GET", URL, None) == {"X-Auth-Token": "tok-secret"}
    assert auth.invalidate() is False and "tok-secret" not in repr(auth)
    with invocation(auth, InvocationCredentials(token="ignored")):
        assert auth.headers("GET", URL, None) == {"X-Auth-Token": "tok-secret"}


def test_functiongraph_credentials_are_per_invocation_and_per_thread() -> None:
    auth = FunctionGraphAuth(None, "p1")
    seen: dict[str, str] = {}
    inside, release = threading.Barrier(2), threading.Event()

    def invoke(name: str) -> None:
        with auth.invocation(InvocationCredentials(token=f"token-{name}")):
            inside.wait()  # both invocations are active at once
            seen[name] = auth.headers("GET", URL, None)["X-Auth-Token"]
            release.wait(1)

    threads = [threading.Thread(target=invoke, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join()
    assert seen == {"a": "token-a", "b": "token-b"}
    with pytest.raises(TemporaryError, match="no FunctionGraph credentials"):
        auth.headers("GET", URL, None)  # the invocation's credentials are gone


def test_functiongraph_prefers_temporary_aksk_then_token_then_environment() -> None:
    fallback = AkSk("AKFALLBACK0001", "fallback-sk")
    auth = FunctionGraphAuth(fallback, "p1")
    assert "AKFALLBACK0001" in auth.headers("GET", URL, None)["Authorization"]
    both = InvocationCredentials.of(
        token="t",
        access_key="AKCONTEXT00001",
        secret_key="sk",
        security_token="sts",
        project_id="p1",
    )
    with auth.invocation(both):
        headers = auth.headers("GET", URL, None)
    assert "AKCONTEXT00001" in headers["Authorization"] and headers["X-Security-Token"] == "sts"
    assert "X-Auth-Token" not in headers
    assert "sk" not in repr(both).replace("aksk", "")


def test_credentials_from_http_function_headers() -> None:
    creds = InvocationCredentials.from_headers(
        {"X-CFF-Auth-Token": "t", "x-cff-project-id": "p1", "X-CFF-Security-Access-Key": "ak"}
    )
    assert (creds.token, creds.aksk, creds.project_id) == ("t", None, "p1")
    assert not InvocationCredentials.from_headers({})


@pytest.mark.parametrize(
    ("catalog", "base"),
    [
        ("http://nova:8774/v2.1/abc123", "http://nova:8774"),
        ("http://nova:8774/v2.1/", "http://nova:8774"),
        ("http://nova:8774/v2/abc", "http://nova:8774"),
        ("https://ecs.region.example.com/v2.1", "https://ecs.region.example.com"),
        ("http://host/compute/v2.1/p", "http://host/compute"),
    ],
)
def test_catalog_endpoint_loses_version_and_project(catalog: str, base: str) -> None:
    assert VERSION_SUFFIX.sub("", catalog.rstrip("/")) == base


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"OS_AUTH_TYPE": "token"}, "use password or v3applicationcredential"),
        ({"OS_USERNAME": "u"}, "needs OS_USERNAME"),
        ({"OS_APPLICATION_CREDENTIAL_ID": "x"}, "OS_APPLICATION_CREDENTIAL_SECRET"),
    ],
)
def test_keystone_options_are_checked(env: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        KeystoneAuth({"OS_AUTH_URL": "http://k/v3", **env})


def test_keystone_repr_hides_the_password() -> None:
    auth = KeystoneAuth({"OS_AUTH_URL": "http://k/v3", "OS_USERNAME": "u", "OS_PASSWORD": "pw-x1"})
    assert "pw-x1" not in repr(auth) and auth.invalidate() is False  # nothing cached yet


def test_keystoneauth1_is_not_imported_in_token_mode(tmp_path: Path) -> None:
    code = (
        "import sys, function.main as m; "
        "print(sorted(n for n in sys.modules if n.startswith(('keystoneauth1', 'huaweicloud'))))"
    )
    env = {
        "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
        "PATH": "/usr/bin",
        "NICATTACH_ECS_ENDPOINT": "http://127.0.0.1:9",
        "NICATTACH_TOKEN": "t",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_ca_bundle_is_added_to_the_default_trust(tmp_path: Path) -> None:
    extra = tmp_path / "private-ca.pem"
    extra.write_text("-----BEGIN CERTIFICATE-----\nprivate\n-----END CERTIFICATE-----\n")
    assert tls.verify(None) is True
    combined = tls.verify(str(extra))
    assert isinstance(combined, str)
    text = Path(combined).read_text()
    assert text.startswith(Path(certifi.where()).read_text()[:200]) and "private" in text


def test_unknown_mode_is_refused() -> None:
    settings = Settings(policy_path="p", ecs_endpoint="e", auth="magic")
    with pytest.raises(ConfigError, match="not supported"):
        auth_from_settings(settings)
