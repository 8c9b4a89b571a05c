"""Issue 22, item 5: the smallest deadline that works, per configuration, measured.

    .venv/bin/python -m bench.deadlines

Against the emulator answering every call in 50 ms (reads, attaches, detaches, Auto
Scaling), one fresh server per event, one NIC to attach: for each backend and each
configuration (nothing after the work, a sink, an AS endpoint, both), the shortest
``NICATTACH_DEADLINE_S`` on a 0.1 s grid whose event attaches (and whose hook is
answered CONTINUE, and whose event reaches the sink), with the reserves of
``function/app/reserves.py``. Also the measured cost of each step. The figures are
in docs/reliability.md.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.app import reserves
from function.app.wiring import build_service
from function.config import Settings
from function.transport.session import Session

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "0605767a5a80d5762fe6c0125d3c5b0e"
STORAGE = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
GROUP = "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607"
HOOK = {
    "lifecycle_hook_name": "nic-attach",
    "lifecycle_hook_type": "INSTANCE_LAUNCHING",
    "default_timeout": 3600,
    "notification_topic_urn": f"urn:smn:cn-north-4:{PROJECT}:as-lifecycle-hooks",
}


class _Accept(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(0.05)  # a sink answering in 50 ms too
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def hook_event(server_id: str) -> bytes:
    event = json.loads((ROOT / "events" / "smn-as-hook-launching.json").read_text())
    message = json.loads(event["record"][0]["smn"]["message"])
    message.update(instance_id=server_id, lifecycle_action_key=None)
    event["record"][0]["smn"]["message"] = json.dumps({k: v for k, v in message.items() if v})
    return json.dumps(event).encode()


def attempt(admin: AdminClient, base: Settings, deadline_s: float, hooks: bool) -> bool:
    server = admin.create_server(PROJECT, tags=["role=db", "env=prod"])["id"]
    service = build_service(replace(base, deadline_s=deadline_s), session=Session())
    if hooks:
        admin.autoscaling.hang(GROUP, server, "nic-attach")
        body = hook_event(server)
    else:
        body = json.dumps({"server_id": server, "project_id": PROJECT}).encode()
    reply = service.handle({"Content-Type": "application/json"}, body)
    service.session.close()
    data = json.loads(reply.body)
    ok = reply.status == 200 and data.get("status") == "attached"
    if hooks:
        ok = ok and data.get("lifecycle", {}).get("result") == "CONTINUE"
    if base.sink:
        ok = ok and reply.headers.get("X-Nicattach-Sink") == "delivered"
    return ok


def main() -> None:
    reserves.check_deadline = lambda settings: None  # measure below the start-up check too
    sink_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
    threading.Thread(target=sink_server.serve_forever, daemon=True).start()
    sink = f"http://127.0.0.1:{sink_server.server_address[1]}/events"
    policy = ROOT / "bench" / "results" / "deadlines-policy.yaml"
    policy.parent.mkdir(exist_ok=True)
    policy.write_text(
        "version: 1\nrules:\n  - name: db\n    when: {role: db}\n    attach:\n"
        f"      - {{net_id: {STORAGE}}}\n"
    )
    print("backend    sink  AS    smallest deadline that works")
    with EmulatorServer() as emulator:
        admin = AdminClient(emulator.url)
        admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
        admin.autoscaling.create_group(PROJECT, id=GROUP, hooks=[HOOK])
        admin.set_latency(read_ms=50, attach_ms=50, detach_ms=50)
        for backend in ("nova", "huawei-v1"):
            for with_sink, hooks in ((False, False), (True, False), (False, True), (True, True)):
                base = Settings(
                    policy_path=str(policy),
                    ecs_endpoint=emulator.url,
                    token="emulator-token",
                    backend=backend,
                    deadline_s=10.0,
                    sink=sink if with_sink else None,
                    as_endpoint=emulator.url if hooks else None,
                )
                found = None
                for tenth in range(3, 41):
                    if all(attempt(admin, base, tenth / 10, hooks) for _ in range(3)):
                        found = tenth / 10
                        break
                print(f"{backend:10} {with_sink!s:5} {hooks!s:5} {found} s")
    sink_server.shutdown()


if __name__ == "__main__":
    main()
