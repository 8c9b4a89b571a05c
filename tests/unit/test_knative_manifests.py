"""deploy/knative/: the manifests parse, carry the fields Knative and eventing-rabbitmq require,
and fit together (source → Broker → Trigger → Service, Secrets and ConfigMap by name); the
function's environment uses only documented variables; the sample event in events/ is what the
source emits for these manifests.

Field requirements: serving.knative.dev/v1 Service (knative/serving), eventing.knative.dev/v1
Broker and Trigger (knative/eventing), sources.knative.dev/v1alpha1 RabbitmqSource
(knative-extensions/eventing-rabbitmq ``pkg/apis/sources/v1alpha1/rabbitmq_types.go``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KNATIVE = ROOT / "deploy" / "knative"
SAMPLE = ROOT / "events" / "knative-rabbitmq-instance-create-end.json"
#: functions-framework's own settings (functions_framework/_http/gunicorn.py), not ours.
FRAMEWORK_VARIABLES = {"WORKERS", "THREADS"}
KINDS = {
    ("v1", "Namespace"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
    ("serving.knative.dev/v1", "Service"),
    ("eventing.knative.dev/v1", "Broker"),
    ("eventing.knative.dev/v1", "Trigger"),
    ("sources.knative.dev/v1alpha1", "RabbitmqSource"),
}


def load_all() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(KNATIVE.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    return docs


@pytest.fixture(scope="module")
def manifests() -> dict[tuple[str, str], dict[str, Any]]:
    """Every object by (kind, name)."""
    objects = {}
    for doc in load_all():
        key = (doc["kind"], doc["metadata"]["name"])
        assert key not in objects, f"{key} defined twice"
        objects[key] = doc
    return objects


def one(manifests: dict[tuple[str, str], dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [doc for (k, _), doc in manifests.items() if k == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def documented_variables() -> set[str]:
    """The variables of README.md's Configuration table (``A`` / ``_ID`` means A and A_ID's
    sibling: ``OS_USER_DOMAIN_NAME`` / ``_ID`` is also ``OS_USER_DOMAIN_ID``)."""
    text = (ROOT / "README.md").read_text()
    table = text.split("| variable | default | meaning |", 1)[1].split("\n\n", 1)[0]
    names: set[str] = set()
    for row in table.splitlines()[2:]:
        previous = ""
        for token in re.findall(r"`([A-Z_][A-Z0-9_]*)`", row.split("|")[1]):
            name = previous.rsplit("_", 1)[0] + token if token.startswith("_") else token
            names.add(name)
            previous = name
    return names


def test_every_manifest_has_the_fields_kubernetes_requires() -> None:
    docs = load_all()
    assert {(d["apiVersion"], d["kind"]) for d in docs} == KINDS
    for doc in docs:
        assert doc["metadata"]["name"], doc
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "nic-autoattach", doc["metadata"]
            assert "spec" in doc or doc["kind"] in ("Secret", "ConfigMap"), doc["kind"]


def test_the_readme_table_is_read() -> None:
    names = documented_variables()
    assert {"NICATTACH_POLICY", "OS_AUTH_URL", "OS_USER_DOMAIN_ID"} <= names
    assert {"OS_APPLICATION_CREDENTIAL_NAME", "HUAWEICLOUD_SDK_SK"} <= names


def test_the_source_reads_novas_notification_queue_into_the_broker(manifests: Any) -> None:
    source = one(manifests, "RabbitmqSource")["spec"]
    resources = source["rabbitmqResourcesConfig"]
    assert resources["queueName"] == "versioned_notifications.info"
    assert resources["exchangeName"] == "nova"
    assert resources["predeclared"] is True  # nothing declared on Nova's RabbitMQ
    assert 1 <= resources["parallelism"] <= 1000
    reference = source["rabbitmqClusterReference"]
    assert set(reference) == {"connectionSecret"}, "name or connectionSecret, not both"
    secret = manifests[("Secret", reference["connectionSecret"]["name"])]
    assert {"uri", "username", "password"} <= set(secret["stringData"])
    sink = source["sink"]["ref"]
    assert (sink["apiVersion"], sink["kind"]) == ("eventing.knative.dev/v1", "Broker")
    assert ("Broker", sink["name"]) in manifests


def test_the_trigger_passes_only_the_sources_events_to_the_service(manifests: Any) -> None:
    source, trigger = one(manifests, "RabbitmqSource"), one(manifests, "Trigger")["spec"]
    assert ("Broker", trigger["broker"]) in manifests
    expected_source = (
        f"/apis/v1/namespaces/{source['metadata']['namespace']}/rabbitmqsources/"
        f"{source['metadata']['name']}#{source['spec']['rabbitmqResourcesConfig']['queueName']}"
    )
    assert trigger["filter"]["attributes"] == {
        "type": "dev.knative.rabbitmq.event",
        "source": expected_source,
    }
    subscriber = trigger["subscriber"]["ref"]
    assert (subscriber["apiVersion"], subscriber["kind"]) == ("serving.knative.dev/v1", "Service")
    assert ("Service", subscriber["name"]) in manifests


def test_the_service_runs_the_http_entry_with_documented_settings(manifests: Any) -> None:
    spec = one(manifests, "Service")["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["image"]
    command = [*container["command"], *container["args"]]
    assert command == ["functions-framework", "--target", "handle_event", "--source",
                       "function/main.py"]  # fmt: skip
    env = {e["name"]: e["value"] for e in container["env"]}
    (secret_ref,) = container["envFrom"]
    secret = manifests[("Secret", secret_ref["secretRef"]["name"])]
    names = set(env) | set(secret["stringData"])
    unknown = names - documented_variables() - FRAMEWORK_VARIABLES
    assert not unknown, f"not in README.md's Configuration table: {sorted(unknown)}"
    assert spec["containerConcurrency"] == int(env["THREADS"])
    assert spec["timeoutSeconds"] > float(env["NICATTACH_DEADLINE_S"])


def test_the_policy_comes_from_the_configmap_and_is_valid(manifests: Any, tmp_path: Path) -> None:
    spec = one(manifests, "Service")["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    policy_path = Path(
        next(e["value"] for e in container["env"] if e["name"] == "NICATTACH_POLICY")
    )
    (mount,) = [m for m in container["volumeMounts"] if policy_path.parent == Path(m["mountPath"])]
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    configmap = manifests[("ConfigMap", volume["configMap"]["name"])]
    policy = tmp_path / "policy.yaml"
    policy.write_text(configmap["data"][policy_path.name])
    cli = Path(sys.executable).parent / "nic-autoattach"
    done = subprocess.run([str(cli), "validate", str(policy)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_sample_is_what_this_source_emits(manifests: Any) -> None:
    event = json.loads(SAMPLE.read_text())
    trigger = one(manifests, "Trigger")["spec"]
    assert {k: event[k] for k in trigger["filter"]["attributes"]} == trigger["filter"]["attributes"]
    assert event["specversion"] == "1.0" and event["subject"] == event["id"]
    assert event["datacontenttype"] == "application/json"
    assert event["data"]["oslo.version"] == "2.0"
    message = json.loads(event["data"]["oslo.message"])
    assert message["event_type"] == "instance.create.end"
    assert message["publisher_id"].startswith("nova-compute:")
