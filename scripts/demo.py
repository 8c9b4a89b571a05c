"""``make demo``: the whole flow on one machine, with nothing to configure.

Starts the emulator on a free port, seeds it with a server tagged like the
sample event, runs the function on that event through the same code path as
the HTTP entry, prints the completion event, and stops the emulator.

It drives both the function and the emulator, so it lives outside both packages:
``function`` never imports ``emulator`` (an import-linter contract), and the emulator
never imports the function.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function import config, logs
from function.app.wiring import build_service
from function.cli import print_reply

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "emulator-token"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/demo.py", description=__doc__)
    parser.add_argument("--event", type=Path, default=ROOT / "events" / "server-created.json")
    parser.add_argument("--policy", type=Path, default=ROOT / "examples" / "policy.yaml")
    parser.add_argument("--seed", type=Path, default=ROOT / "examples" / "emulator-seed.json")
    args = parser.parse_args(argv)
    logs.configure("WARNING")
    with EmulatorServer(tokens=(TOKEN,)) as emulator:
        AdminClient(emulator.url).seed(json.loads(args.seed.read_text()))
        print(f"# emulator at {emulator.url}, event {args.event.name}", file=sys.stderr)
        env = {
            config.POLICY: str(args.policy),
            config.ECS_ENDPOINT: emulator.url,
            config.AUTH: "token",
            config.TOKEN: TOKEN,
        }
        service = build_service(config.Settings.from_env(env))
        try:
            reply = service.handle({"Content-Type": "application/json"}, args.event.read_bytes())
        finally:
            service.session.close()
        return print_reply(reply)


if __name__ == "__main__":
    raise SystemExit(main())
