"""SMN over HTTP (issue 22, item 7): a message is acted on only when SMN signed it, for a
listed topic, recently; the rest is 403 before any API call. A throwaway CA-less signing
certificate (the ``cryptography`` package, dev only) is served by a local server that
the test gate allowlists (production allows only https on Huawei's SMN hosts)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from flask.testing import FlaskClient
from functions_framework import create_app
from support import PROJECT

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.app.smn_gate import SmnGate
from function.sources.smn_signature import string_to_sign

ROOT = Path(__file__).resolve().parents[2]
TOPIC = f"urn:smn:cn-north-4:{PROJECT}:as-lifecycle-hooks"
OTHER_TOPIC = f"urn:smn:cn-north-4:{PROJECT}:someone-elses"
GROUP = "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607"
ONE = "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11"
KEY = "5d7c6e21-8f3a-4b9c-9d1e-2f4a6b8c0d13"
HOOK = {
    "lifecycle_hook_name": "nic-attach",
    "lifecycle_hook_type": "INSTANCE_LAUNCHING",
    "default_timeout": 3600,
    "notification_topic_urn": TOPIC,
}


class Signer:
    """A throwaway RSA key and its self-signed certificate (SHA-256 with RSA)."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smn-test-signing")])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .sign(self.key, hashes.SHA256())
        )
        self.pem = cert.public_bytes(serialization.Encoding.PEM)

    def sign(self, message: dict[str, Any]) -> str:
        raw = self.key.sign(string_to_sign(message), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode()


class _Smn(BaseHTTPRequestHandler):
    """Serves the certificate and counts what was asked of it (certs, confirmations)."""

    pem = b""
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append(self.path)
        body = self.pem if self.path.endswith(".pem") else b"<ConfirmSubscriptionResponse/>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def smn(signer: Signer) -> Iterator[tuple[str, type[_Smn]]]:
    handler = type("Handler", (_Smn,), {"pem": signer.pem, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(
    emulator: EmulatorServer,
    admin: AdminClient,
    smn: tuple[str, type[_Smn]],
    monkeypatch: pytest.MonkeyPatch,
) -> FlaskClient:
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    admin.autoscaling.create_group(PROJECT, id=GROUP, hooks=[HOOK])
    admin.autoscaling.hang(GROUP, ONE, "nic-attach", KEY)
    env = {
        "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
        "NICATTACH_ECS_ENDPOINT": emulator.url,
        "NICATTACH_TOKEN": "emulator-token",
        "NICATTACH_PROJECT_ID": PROJECT,
        "NICATTACH_AS_ENDPOINT": emulator.url,
        "NICATTACH_SMN_TOPICS": TOPIC,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("NICATTACH_SINK", "K_SINK", "NICATTACH_ALLOWED_PROJECTS"):
        monkeypatch.delenv(name, raising=False)
    app = create_app("handle_event", str(ROOT / "function" / "main.py"))
    import main

    local = smn[0] + "/"  # the test's certificate server: allowlisted for this test only
    main.SERVICE.intake.smn = SmnGate(
        main.SERVICE.session,
        (TOPIC,),
        cert_url_allowed=lambda url: url.startswith(local),
        confirm_url_allowed=lambda url: url.startswith(local),
    )
    admin.clear_requests()
    return app.test_client()


def hook_message() -> str:
    sample = json.loads((ROOT / "events" / "smn-as-hook-launching.json").read_text())
    message: str = sample["record"][0]["smn"]["message"]
    return message


def notification(signer: Signer, base: str, **changes: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = {
        "type": "Notification",
        "topic_urn": TOPIC,
        "message": hook_message(),
        "message_id": "9b1f0c2e4a6d48f1a3c5e7092b4d6f81",
        "timestamp": now,
        "subject": "Auto Scaling lifecycle hook: INSTANCE_LAUNCHING",
        "signature_version": "v1",
        "signing_cert_url": f"{base}/smn/SMN_test.pem",
    }
    message.update({k: v for k, v in changes.items() if k != "signature"})
    message["signature"] = changes.get("signature", signer.sign(message))
    return message


def post(client: FlaskClient, body: dict[str, Any], kind: str = "Notification") -> Any:
    return client.post(
        "/",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", "X-SMN-MESSAGE-TYPE": kind},
    )


def nothing_called(admin: AdminClient) -> bool:
    return admin.requests_log() == [] and admin.autoscaling.state()["answers"] == []


def test_a_signed_hook_notification_attaches_and_continues_the_hook(
    client: FlaskClient, admin: AdminClient, signer: Signer, smn: tuple[str, type[_Smn]]
) -> None:
    response = post(client, notification(signer, smn[0]))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["lifecycle"]["result"] == "CONTINUE"
    answers = admin.autoscaling.state()["answers"]
    assert [(a["instance_id"], a["result"]) for a in answers] == [(ONE, "CONTINUE")]


@pytest.mark.parametrize(
    "forgery",
    [
        "message changed after signing",
        "signature of another key",
        "no signature",
        "garbage signature",
        "topic not listed",
        "an hour old",
        "record shape (unsigned)",
        "bare type and topic, no headers",
        "certificate from another host",
    ],
)
def test_a_forged_or_unsigned_message_is_403_and_calls_nothing(
    client: FlaskClient,
    admin: AdminClient,
    signer: Signer,
    smn: tuple[str, type[_Smn]],
    forgery: str,
) -> None:
    base = smn[0]
    body: dict[str, Any]
    if forgery == "message changed after signing":
        body = notification(signer, base)
        body["message"] = body["message"].replace("INSTANCE_LAUNCHING", "INSTANCE_TERMINATING")
    elif forgery == "signature of another key":
        body = notification(signer, base, signature=Signer().sign(notification(signer, base)))
    elif forgery == "no signature":
        body = notification(signer, base)
        del body["signature"]
    elif forgery == "garbage signature":
        body = notification(signer, base, signature="not*base64")
    elif forgery == "topic not listed":
        body = notification(signer, base, topic_urn=OTHER_TOPIC)
    elif forgery == "an hour old":
        body = notification(signer, base, timestamp="2020-01-01T00:00:00Z")
    elif forgery == "record shape (unsigned)":
        body = json.loads((ROOT / "events" / "smn-as-hook-launching.json").read_text())
    elif forgery == "bare type and topic, no headers":
        body = notification(signer, base)
        body["message"] += " "
        response = client.post("/", json=body)
        assert response.status_code == 403 and nothing_called(admin)
        return
    else:
        body = notification(signer, base, signing_cert_url="https://evil.example.com/c.pem")
    response = post(client, body)
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "smn_refused"
    assert nothing_called(admin)


def test_the_certificate_is_fetched_once_and_cached(
    client: FlaskClient, admin: AdminClient, signer: Signer, smn: tuple[str, type[_Smn]]
) -> None:
    for _ in range(3):
        assert post(client, notification(signer, smn[0])).status_code == 200
    assert [p for p in smn[1].seen if p.endswith(".pem")] == ["/smn/SMN_test.pem"]


def confirmation(signer: Signer, base: str, topic: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = {
        "type": "SubscriptionConfirmation",
        "topic_urn": topic,
        "message": f"You are invited to subscribe to topic: {topic}.",
        "message_id": "def5c309cbff44d5a870787ed937edf8",
        "timestamp": now,
        "subscribe_url": f"{base}/smn/subscription/confirm?token=abc",
        "signature_version": "v1",
        "signing_cert_url": f"{base}/smn/SMN_test.pem",
    }
    message["signature"] = signer.sign(message)
    return message


def test_a_subscription_is_confirmed_only_for_a_listed_topic(
    client: FlaskClient, admin: AdminClient, signer: Signer, smn: tuple[str, type[_Smn]]
) -> None:
    base, handler = smn
    refused = post(client, confirmation(signer, base, OTHER_TOPIC), "SubscriptionConfirmation")
    assert refused.status_code == 403
    assert not [p for p in handler.seen if "confirm" in p]
    done = post(client, confirmation(signer, base, TOPIC), "SubscriptionConfirmation")
    assert done.status_code == 200 and done.get_json()["outcome"] == "ignored"
    assert done.get_json()["reason"] == f"SMN subscription to {TOPIC} confirmed"
    assert [p for p in handler.seen if "confirm" in p] == ["/smn/subscription/confirm?token=abc"]
    assert nothing_called(admin)


def test_the_production_gate_takes_certificates_only_from_huawei_smn_hosts() -> None:
    from function.app.smn_gate import official_url

    assert official_url("https://smn.cn-north-4.myhuaweicloud.com/smn/SMN_cn-north-4_x.pem")
    assert official_url("https://smn.eu-west-101.myhuaweicloud.eu/smn/c.pem")
    for url in (
        "http://smn.cn-north-4.myhuaweicloud.com/c.pem",
        "https://smn.cn-north-4.myhuaweicloud.com.evil.com/c.pem",
        "https://evil.com/smn.cn-north-4.myhuaweicloud.com/c.pem",
        "https://user@smn.cn-north-4.myhuaweicloud.com@evil.com/c.pem",
        "https://smn.cn-north-4.myhuaweicloud.com:8443/c.pem",
    ):
        assert not official_url(url), url


def test_functiongraphs_own_smn_trigger_needs_no_signature(
    client: FlaskClient, admin: AdminClient
) -> None:
    import main

    sample = json.loads((ROOT / "events" / "smn-as-hook-launching.json").read_text())
    answer = main.handler(sample, None)
    assert answer["data"]["lifecycle"]["result"] == "CONTINUE", answer
