"""The ``nic-autoattach`` command: invoke, validate, explain, emulator, demo.

Options mirror the environment variables of ``config.py``; an option wins
over the variable. Logs go to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from function import config, logs
from function.app.service import Reply, Service
from function.config.policy_file import load_policy
from function.delivery import emit
from function.domain.errors import InputError, NicAttachError, PolicyError, TemporaryError
from function.domain.outcome import Kind
from function.domain.policy import explain
from function.domain.tags import parse_tags

EXIT_OK, EXIT_PERMANENT, EXIT_INPUT, EXIT_RETRY = 0, 1, 2, 75


DEV_COMMANDS = {"emulator": "emulator.server", "demo": "function.demo"}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DEV_COMMANDS:  # their options are their own
        return _dev_command(DEV_COMMANDS[argv[0]], argv[1:])
    args = _parser().parse_args(argv)
    logs.configure(os.environ.get(config.LOG_LEVEL, "INFO"))
    command: int = args.run(args)
    return command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nic-autoattach", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    invoke = sub.add_parser("invoke", help="run the function on an event file, print outcomes")
    invoke.add_argument("event_file", type=Path, help="bare JSON or structured CloudEvent")
    invoke.add_argument(
        "--dry-run", action="store_true", help="reads only: print tags, rules, planned attaches"
    )
    _add_settings_options(invoke)
    invoke.set_defaults(run=cmd_invoke)

    sweep = sub.add_parser("reconcile", help="check every ACTIVE/SHUTOFF server of a project")
    sweep.add_argument("--project", help=f"project to sweep (default ${config.PROJECT_ID})")
    sweep.add_argument("--dry-run", action="store_true", help="reads only: print what is missing")
    sweep.add_argument("--concurrency", type=int, default=4, help="servers handled at once")
    _add_settings_options(sweep)
    sweep.set_defaults(run=cmd_reconcile)

    validate = sub.add_parser("validate", help="check a policy file, one line per mistake")
    validate.add_argument("policy", type=Path)
    validate.set_defaults(run=cmd_validate)

    explain_ = sub.add_parser("explain", help="which rules match these tags, which NICs follow")
    explain_.add_argument("--policy", default=os.environ.get(config.POLICY), required=False)
    explain_.add_argument("--tag", action="append", default=[], metavar="K=V")
    explain_.set_defaults(run=cmd_explain)

    sub.add_parser("emulator", help="run the bundled ECS/Nova emulator (development; --help)")
    sub.add_parser("demo", help="emulator + sample event + completion event (development)")
    return parser


def _add_settings_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", help=f"policy file (${config.POLICY})")
    parser.add_argument("--endpoint", help=f"compute API base URL (${config.ECS_ENDPOINT})")
    parser.add_argument("--project-id", help=f"default project (${config.PROJECT_ID})")


def _service(args: argparse.Namespace) -> Service:
    """The service from the environment, with the command line's overrides."""
    env = dict(os.environ)
    overrides = {
        config.POLICY: args.policy,
        config.ECS_ENDPOINT: args.endpoint,
        config.PROJECT_ID: args.project_id,
    }
    env.update({k: v for k, v in overrides.items() if v})
    return Service.from_settings(config.Settings.from_env(env))


def cmd_reconcile(args: argparse.Namespace) -> int:
    try:
        service = _service(args)
    except PolicyError as exc:
        return _fail("invalid policy:\n" + "\n".join(exc.problems), EXIT_INPUT)
    except NicAttachError as exc:
        return _fail(exc.message, EXIT_INPUT)
    try:
        if not (args.project or service.settings.project_id):
            return _fail(f"reconcile needs --project or ${config.PROJECT_ID}", EXIT_INPUT)
        summary = service.reconcile(args.project, dry_run=args.dry_run,
                                    concurrency=args.concurrency)  # fmt: skip
    except InputError as exc:
        return _fail(exc.message, EXIT_INPUT)
    except NicAttachError as exc:
        return _fail(exc.message, EXIT_RETRY if isinstance(exc, TemporaryError) else 1)
    finally:
        service.session.close()
    print(json.dumps(summary.as_dict(), indent=2))
    return EXIT_PERMANENT if summary.failed else EXIT_OK


def cmd_invoke(args: argparse.Namespace) -> int:
    try:
        body = args.event_file.read_bytes()
        service = _service(args)
    except OSError as exc:
        return _fail(f"cannot read {args.event_file}: {exc.strerror}", EXIT_INPUT)
    except PolicyError as exc:
        return _fail("invalid policy:\n" + "\n".join(exc.problems), EXIT_INPUT)
    except NicAttachError as exc:
        return _fail(exc.message, EXIT_INPUT)
    headers = {"Content-Type": "application/json"}
    try:
        if args.dry_run:
            for view in service.dry_run(headers, body):
                print(json.dumps(view, indent=2))
            return EXIT_OK
        return print_reply(service.handle(headers, body))
    except InputError as exc:
        print(json.dumps({"error": {"code": exc.code, "message": exc.message}}), file=sys.stderr)
        return EXIT_INPUT
    finally:
        service.session.close()


def print_reply(reply: Reply) -> int:
    """Print each outcome as a structured CloudEvent; return the exit code."""
    if reply.status in (400, 413):
        print(reply.body.decode(), file=sys.stderr)
        return EXIT_INPUT
    if not reply.events:
        print(json.dumps(json.loads(reply.body), indent=2))
        return EXIT_OK
    for event in reply.events:
        print(json.dumps(emit.structured_json(event), indent=2))
    failed = [o for o in reply.outcomes if o.kind is Kind.FAILED]
    if any(o.retryable for o in failed):
        return EXIT_RETRY
    return EXIT_PERMANENT if failed else EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        policy = load_policy(args.policy)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem)
        return 1
    print(f"{args.policy}: OK ({len(policy.rules)} rules)")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    if not args.policy:
        return _fail(f"explain needs --policy or ${config.POLICY}", EXIT_INPUT)
    try:
        policy = load_policy(args.policy)
        tags = parse_tags(list(args.tag))
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except InputError as exc:
        return _fail(exc.message, EXIT_INPUT)
    print(explain(policy, tags).render())
    return 0


def _dev_command(module: str, argv: list[str]) -> int:
    """Run a development tool that lives beside the function, not in its deployed package."""
    try:
        tool = importlib.import_module(module)
    except ImportError:
        return _fail(f"{module} is not installed: run this from a repository checkout", 1)
    code: int = tool.main(argv)
    return code


def _fail(message: str, code: int) -> int:
    print(f"nic-autoattach: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
