"""aksk.py: our SDK-HMAC-SHA256 signatures equal huaweicloudsdkcore's, for many requests."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import quote

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from function.auth import AkSkAuth, acting_project
from function.auth.aksk import AkSk, canonical_query, canonical_uri, sign

WHEN = dt.datetime(2026, 11, 28, 21, 30, 5, tzinfo=dt.timezone.utc)
HOST = "ecs.cn-north-4.myhuaweicloud.com"

segment = st.text(min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))
query_pairs = st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=4)
bodies = st.one_of(
    st.none(),
    st.binary(max_size=64),
    st.text(max_size=40).map(lambda t: json.dumps({"name": t}).encode()),
)
keys = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=8, max_size=20)


def reference(
    credentials: AkSk,
    project: str,
    method: str,
    path: str,
    pairs: list[tuple[str, str]],
    body: bytes | None,
) -> str:
    """The Authorization header huaweicloudsdkcore computes for the same request."""
    sdk = BasicCredentials(credentials.access_key, credentials.secret_key, project)
    if credentials.security_token:
        sdk = sdk.with_security_token(credentials.security_token)
    request = SdkRequest(
        method=method,
        schema="https",
        host=HOST,
        resource_path=path,
        query_params=list(pairs),
        header_params={"X-Sdk-Date": WHEN.strftime("%Y%m%dT%H%M%SZ"), "Host": HOST},
        body=body or "",
    )
    signed = sdk.sign_request(request)
    return str(signed.header_params["Authorization"])


COUNT = {"checked": 0}


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    segments=st.lists(segment, min_size=1, max_size=5),
    pairs=query_pairs,
    body=bodies,
    ak=keys,
    sk=st.text(min_size=1, max_size=40),
    token=st.one_of(st.just(""), keys),
    project=st.from_regex(r"[a-f0-9]{32}", fullmatch=True),
)
def test_signature_matches_huaweicloudsdkcore(
    method: str,
    segments: list[str],
    pairs: list[tuple[str, str]],
    body: bytes | None,
    ak: str,
    sk: str,
    token: str,
    project: str,
) -> None:
    path = "/" + "/".join(quote(s, safe="") for s in segments)
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    url = f"https://{HOST}{path}" + (f"?{query}" if query else "")
    credentials = AkSk(ak, sk, token)
    ours = sign(credentials, method, url, body, {"X-Project-Id": project}, now=lambda: WHEN)
    assert ours["Authorization"] == reference(credentials, project, method, path, pairs, body)
    assert ours["X-Sdk-Date"] == "20261128T213005Z" and ours["Host"] == HOST
    assert ours.get("X-Security-Token", "") == token
    COUNT["checked"] += 1


def test_fixed_example_and_canonical_parts() -> None:
    credentials = AkSk("AKEXAMPLE0001", "sk-example", "")
    url = f"https://{HOST}/v2.1/p1/servers/détail?marker=a b&limit=2"
    ours = sign(credentials, "get", url, None, {"X-Project-Id": "p1"}, now=lambda: WHEN)
    path = "/v2.1/p1/servers/détail"
    pairs = [("marker", "a b"), ("limit", "2")]
    assert ours["Authorization"] == reference(credentials, "p1", "GET", path, pairs, None)
    assert canonical_uri("/v2.1/p1/servers") == "/v2.1/p1/servers/"
    assert canonical_uri("") == "/"
    assert canonical_query("b=2&a=%20x&c") == "a=%20x&b=2&c="


@pytest.mark.parametrize(
    ("url", "project"),
    [
        (f"https://{HOST}/v2.1/abc/servers/x", "abc"),
        (f"https://{HOST}/v1/def/channels/c/events", "def"),
        (f"https://{HOST}/other", "configured"),
    ],
)
def test_x_project_id_follows_the_url(url: str, project: str) -> None:
    auth = AkSkAuth(AkSk("AKEXAMPLE0001", "sk"), "configured")
    assert auth.headers("GET", url, None)["X-Project-Id"] == project


def test_the_network_api_signs_the_project_it_acts_in() -> None:
    """``/v2.0/ports`` names no project: the signed ``X-Project-Id`` is the acting one."""
    auth = AkSkAuth(AkSk("AKEXAMPLE0001", "sk"), "configured")
    url = f"https://{HOST}/v2.0/ports"
    assert auth.headers("POST", url, b"{}")["X-Project-Id"] == "configured"
    with acting_project("event-project"):
        headers = auth.headers("POST", url, b"{}")
        assert headers["X-Project-Id"] == "event-project"
        assert "x-project-id" in headers["Authorization"].lower()  # signed, not appended
        url = f"https://{HOST}/v2.1/abc/servers/x"
        assert auth.headers("GET", url, None)["X-Project-Id"] == "abc"  # the URL's still wins


def test_reprs_hide_secrets() -> None:
    credentials = AkSk("AKEXAMPLE0001", "very-secret-sk", "very-secret-token")
    for text in (repr(credentials), str(credentials), repr(AkSkAuth(credentials, "p"))):
        assert "very-secret" not in text and "AKEXAMPLE0001" not in text
