"""deploy/knative/: what `kubectl apply -k deploy/knative/` applies (the documented command),
rendered here with kubectl's kustomize (or, where kubectl is missing, the same kustomize rules
in Python), holds no placeholder and no example network id; without the user's files nothing
renders at all. The objects carry the fields Knative and eventing-rabbitmq require, and fit
together (source → Broker → Trigger → Service, Secrets and ConfigMap by name); the function's
environment uses only documented variables; the sample event in events/ is what the source
emits for these manifests.

Field requirements: serving.knative.dev/v1 Service (knative/serving), eventing.knative.dev/v1
Broker and Trigger (knative/eventing), sources.knative.dev/v1alpha1 RabbitmqSource
(knative-extensions/eventing-rabbitmq ``pkg/apis/sources/v1alpha1/rabbitmq_types.go``).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KNATIVE = ROOT / "deploy" / "knative"
TEMPLATES = ROOT / "deploy" / "templates"
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
#: A user's policy: networks of their own, not the example's.
USER_POLICY = """version: 1
rules:
  - name: db
    when: {role: db}
    attach:
      - net_id: 11111111-2222-4333-8444-555555555555
"""
USER_VALUES = {
    "uri": "https://rabbit.site.test:15672",
    "username": "nic",
    "password": "s3cret",
    "OS_AUTH_URL": "https://keystone.site.test:5000/v3",
    "OS_APPLICATION_CREDENTIAL_ID": "0123abcd",
    "OS_APPLICATION_CREDENTIAL_SECRET": "s3cret",
}


def kustomize(folder: Path) -> str:
    """What `kubectl apply -k folder` applies, as YAML (raises CalledProcessError if none)."""
    kubectl, binary = shutil.which("kubectl"), shutil.which("kustomize")
    if binary or kubectl:
        command = [binary, "build"] if binary else [kubectl or "kubectl", "kustomize"]
        done = subprocess.run([*command, str(folder)], capture_output=True, text=True, check=True)
        return done.stdout
    return yaml.safe_dump_all(render_in_python(folder))


def render_in_python(folder: Path) -> list[dict[str, Any]]:
    """The subset of kustomize this kustomization uses: resources, namespace, images and
    generators from files and env files (no name hash: names stay as written)."""
    spec = yaml.safe_load((folder / "kustomization.yaml").read_text())
    objects = []
    for name in spec.get("resources", []):
        objects += [d for d in yaml.safe_load_all((folder / name).read_text()) if d]
    for generator in spec.get("configMapGenerator", []):
        data = {}
        for entry in generator.get("files", []):
            key, _, path = entry.rpartition("=")
            data[key or Path(path).name] = (folder / path).read_text()  # raises if missing
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": generator["name"]},
                "data": data,
            }
        )
    for generator in spec.get("secretGenerator", []):
        data = {}
        for path in generator.get("envs", []):
            for line in (folder / path).read_text().splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    key, _, value = line.partition("=")
                    data[key.strip()] = base64.b64encode(value.encode()).decode()
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {"name": generator["name"]},
                "data": data,
            }
        )
    for doc in objects:
        if doc["kind"] != "Namespace":
            doc["metadata"]["namespace"] = spec["namespace"]
        containers = doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
        for image in spec.get("images", []):
            for container in containers:
                if container["image"].split(":")[0] == image["name"]:
                    name = image.get("newName", image["name"])
                    container["image"] = f"{name}:{image['newTag']}"
    return objects


def user_folder(tmp: Path) -> Path:
    """deploy/knative/ as a user has it after step 4: their policy, the templates filled in."""
    folder = tmp / "knative"
    shutil.copytree(KNATIVE, folder, ignore=shutil.ignore_patterns("policy.yaml", "*.env"))
    (folder / "policy.yaml").write_text(USER_POLICY)
    for template in TEMPLATES.glob("*.env"):
        lines = []
        for line in template.read_text().splitlines():
            key = line.partition("=")[0]
            filled = "REPLACE-ME" in line and not line.startswith("#")
            lines.append(f"{key}={USER_VALUES[key]}" if filled else line)
        (folder / template.name).write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> str:
    return kustomize(user_folder(tmp_path_factory.mktemp("apply")))


def load_all(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


@pytest.fixture(scope="module")
def manifests(rendered: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Every object applied, by (kind, name without kustomize's hash suffix)."""
    objects = {}
    for doc in load_all(rendered):
        key = (doc["kind"], base_name(doc["metadata"]["name"]))
        assert key not in objects, f"{key} defined twice"
        objects[key] = doc
    return objects


def base_name(name: str) -> str:
    """Without kustomize's hash suffix (10 characters of an alphabet without vowels)."""
    return re.sub(r"-[bcdfghjklmnpqrstvwxz2456789]{10}$", "", name)


def secret_data(secret: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def one(manifests: dict[tuple[str, str], dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [doc for (k, _), doc in manifests.items() if k == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def documented_variables() -> set[str]:
    """The variables of docs/configuration.md's table."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    return set(re.findall(r"^\| `([A-Z_][A-Z0-9_]*)`", text, re.MULTILINE))


def test_the_documented_command_is_apply_k() -> None:
    steps = (KNATIVE / "README.md").read_text()
    assert "kubectl apply -k deploy/knative/" in steps
    assert "apply -f deploy/knative" not in steps
    assert "> 20-configmap" not in steps  # no ConfigMap written into the repository


def test_nothing_applied_holds_a_placeholder_or_an_example_network(rendered: str) -> None:
    example_ids = set(
        re.findall(
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            (ROOT / "examples" / "policy.yaml").read_text(),
        )
    )
    assert example_ids
    applied = rendered + "".join(
        "".join(secret_data(d).values()) for d in load_all(rendered) if d["kind"] == "Secret"
    )
    assert "REPLACE-ME" not in applied
    assert not {i for i in example_ids if i in applied}
    assert "example.internal" not in applied
    assert "11111111-2222-4333-8444-555555555555" in applied  # the user's policy, as given


def test_without_the_users_files_nothing_is_applied(tmp_path: Path) -> None:
    for missing in ("policy.yaml", "rabbitmq.env", "function.env"):
        folder = user_folder(tmp_path / missing)
        (folder / missing).unlink()
        with pytest.raises((subprocess.CalledProcessError, OSError)):
            kustomize(folder)


def test_no_manifest_in_the_folder_is_left_out_of_the_kustomization() -> None:
    listed = set(yaml.safe_load((KNATIVE / "kustomization.yaml").read_text())["resources"])
    on_disk = {p.name for p in KNATIVE.glob("*.yaml")} - {
        "kustomization.yaml",
        "kustomizeconfig.yaml",
        "policy.yaml",
    }
    assert on_disk == listed
    for template in TEMPLATES.glob("*"):
        assert "REPLACE-ME" in template.read_text(), template  # templates are only templates


def test_the_python_rendering_matches_kubectl(tmp_path: Path) -> None:
    if not (shutil.which("kubectl") or shutil.which("kustomize")):
        pytest.skip("no kubectl or kustomize here: only the Python rendering is used")
    folder = user_folder(tmp_path)
    real = {(d["kind"], base_name(d["metadata"]["name"])): d for d in load_all(kustomize(folder))}
    ours = {(d["kind"], d["metadata"]["name"]): d for d in render_in_python(folder)}
    assert set(real) == set(ours)
    for key, doc in ours.items():
        assert doc.get("data") == real[key].get("data"), key


def test_every_manifest_has_the_fields_kubernetes_requires(rendered: str) -> None:
    docs = load_all(rendered)
    assert {(d["apiVersion"], d["kind"]) for d in docs} == KINDS
    for doc in docs:
        assert doc["metadata"]["name"], doc
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "nic-autoattach", doc["metadata"]
            assert "spec" in doc or doc["kind"] in ("Secret", "ConfigMap"), doc["kind"]


def test_the_configuration_table_is_read() -> None:
    names = documented_variables()
    assert {"NICATTACH_POLICY", "OS_AUTH_URL", "OS_USER_DOMAIN_ID"} <= names
    assert {"OS_APPLICATION_CREDENTIAL_SECRET", "HUAWEICLOUD_SDK_SK"} <= names


def test_the_source_reads_novas_notification_queue_into_the_broker(manifests: Any) -> None:
    source = one(manifests, "RabbitmqSource")["spec"]
    resources = source["rabbitmqResourcesConfig"]
    assert resources["queueName"] == "versioned_notifications.info"
    assert resources["exchangeName"] == "nova"
    assert resources["predeclared"] is True  # nothing declared on Nova's RabbitMQ
    assert 1 <= resources["parallelism"] <= 1000
    reference = source["rabbitmqClusterReference"]
    assert set(reference) == {"connectionSecret"}, "name or connectionSecret, not both"
    secret = manifests[("Secret", base_name(reference["connectionSecret"]["name"]))]
    assert {"uri", "username", "password"} <= set(secret_data(secret))
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
    assert command == "functions-framework --target handle_event --source function/main.py".split()
    env = {e["name"]: e["value"] for e in container["env"]}
    (secret_ref,) = container["envFrom"]
    secret = manifests[("Secret", base_name(secret_ref["secretRef"]["name"]))]
    names = set(env) | set(secret_data(secret))
    unknown = names - documented_variables() - FRAMEWORK_VARIABLES
    assert not unknown, f"not in docs/configuration.md: {sorted(unknown)}"
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
    configmap = manifests[("ConfigMap", base_name(volume["configMap"]["name"]))]
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
