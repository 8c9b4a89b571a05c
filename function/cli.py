"""The nic-autoattach command line.

Options mirror the NICATTACH_* environment variables; an option wins over the
variable. Logs go to stderr, results to stdout. Exit codes: 0 done, 1 failed
for good, 2 bad input or configuration, 75 try again later.

invoke prints JSON lines: one structured CloudEvent (or dry-run view) per line.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from function import config, logs
from function.app.check import check
from function.app.service import Reply, Service
from function.app.views import summary_json
from function.app.wiring import build_service, refuse_unsupported
from function.config.policy_file import load_policy
from function.delivery import emit
from function.domain.errors import InputError, NicAttachError, PolicyError, TemporaryError
from function.domain.outcome import EXIT_INPUT, EXIT_OK, EXIT_PERMANENT, EXIT_RETRY
from function.domain.policy import explain
from function.domain.tags import parse_tags

DEV_COMMANDS = {"emulator": "emulator.server"}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DEV_COMMANDS:  # their options are their own
        return _dev_command(DEV_COMMANDS[argv[0]], argv[1:])
    args = _parser().parse_args(argv)
    logs.configure(os.environ.get(config.LOG_LEVEL, "INFO"))
    command: int = args.run(args)
    return command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nic-autoattach",
        description=__doc__,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    invoke = sub.add_parser("invoke", help="run the function on an event file, print outcomes")
    invoke.add_argument(
        "event_file", type=Path, help="bare JSON or structured CloudEvent; - reads stdin"
    )
    invoke.add_argument(
        "--dry-run", action="store_true", help="reads only: print tags, rules, planned changes"
    )
    _add_settings_options(invoke)
    invoke.set_defaults(run=cmd_invoke)

    sweep = sub.add_parser("reconcile", help="sweep a project's servers against the policy")
    sweep.add_argument("--project", help=f"project to sweep (default ${config.PROJECT_ID})")
    sweep.add_argument("--dry-run", action="store_true", help="reads only: print what is missing")
    sweep.add_argument(
        "--concurrency", type=int, help="servers handled at once (default: the setting)"
    )
    recent = f"default: those changed within ${config.SWEEP_WINDOW_S}"
    sweep.add_argument("--all", dest="full", action="store_true", help=f"every server ({recent})")
    sweep.add_argument("--marker", help="resume after this server id (from an incomplete run)")
    _add_settings_options(sweep)
    sweep.set_defaults(run=cmd_reconcile)

    validate = sub.add_parser("validate", help="check a policy file, one line per mistake")
    validate.add_argument("policy", type=Path)
    default = os.environ.get(config.BACKEND, "nova")
    refuse = f"refuse what this backend cannot do (${config.BACKEND})"
    validate.add_argument("--backend", choices=config.BACKENDS, default=default, help=refuse)
    validate.set_defaults(run=cmd_validate)

    check_ = sub.add_parser("check", help="read-only: the policy against the cloud's project")
    check_.add_argument("--project", help=f"project to check (default ${config.PROJECT_ID})")
    _add_settings_options(check_)
    check_.set_defaults(run=cmd_check)

    explain_ = sub.add_parser("explain", help="which rules match these tags, which NICs follow")
    explain_.add_argument("--policy", default=os.environ.get(config.POLICY), required=False)
    explain_.add_argument("--tag", action="append", default=[], metavar="K=V")
    explain_.set_defaults(run=cmd_explain)

    sub.add_parser("emulator", help="run the bundled compute API emulator (development)")
    return parser


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Commands and their help on one line each."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=28)
        self._action_max_length = 14  # argparse measures commands without their indent


def _add_settings_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", help=f"policy file (${config.POLICY})")
    parser.add_argument("--endpoint", help=f"compute API base URL (${config.ECS_ENDPOINT})")
    parser.add_argument("--project-id", help=f"default project (${config.PROJECT_ID})")
    parser.add_argument("--deadline-s", help=f"time budget in seconds (${config.DEADLINE_S})")


def _service(args: argparse.Namespace) -> Service:
    """The service from the environment, with the command line's overrides."""
    env = dict(os.environ)
    overrides = {
        config.POLICY: args.policy,
        config.ECS_ENDPOINT: args.endpoint,
        config.PROJECT_ID: args.project_id,
        config.DEADLINE_S: args.deadline_s,
    }
    env.update({k: v for k, v in overrides.items() if v})
    # No project limit is no warning here: the operator chose the event file and the token.
    return build_service(config.Settings.from_env(env), unscoped_level=logging.DEBUG)


def _start(args: argparse.Namespace) -> Service | int:
    """The service, or the exit code after saying (one line per problem) why not."""
    try:
        return _service(args)
    except PolicyError as exc:
        return _fail("invalid policy:\n" + "\n".join(exc.problems), EXIT_INPUT)
    except config.ConfigError as exc:
        return _fail("\n".join(exc.problems), EXIT_INPUT)
    except NicAttachError as exc:
        return _fail(exc.message, EXIT_RETRY if isinstance(exc, TemporaryError) else EXIT_INPUT)


def cmd_reconcile(args: argparse.Namespace) -> int:
    service = _start(args)
    if isinstance(service, int):
        return service
    try:
        if not (args.project or service.settings.project_id):
            return _fail(f"reconcile needs --project or ${config.PROJECT_ID}", EXIT_INPUT)
        summary = service.reconcile(
            args.project,
            dry_run=args.dry_run,
            full=args.full,
            concurrency=args.concurrency,
            marker=args.marker,
        )
    except InputError as exc:
        return _fail(exc.message, EXIT_INPUT)
    finally:
        service.session.close()
    print(json.dumps(summary_json(summary), indent=2))
    failed = EXIT_PERMANENT if summary.failed else EXIT_OK
    return EXIT_RETRY if summary.incomplete else failed


def cmd_invoke(args: argparse.Namespace) -> int:
    try:
        body = (
            sys.stdin.buffer.read() if str(args.event_file) == "-" else args.event_file.read_bytes()
        )
    except OSError as exc:
        return _fail(f"cannot read {args.event_file}: {exc.strerror}", EXIT_INPUT)
    service = _start(args)
    if isinstance(service, int):
        return service
    headers = {"Content-Type": "application/json"}
    try:
        if args.dry_run:
            return print_views(with_interfaces(service, service.dry_run(headers, body)))
        return print_reply(service.handle(headers, body))
    except InputError as exc:
        error = {"code": exc.code, "message": logs.redact(exc.message)}
        print(json.dumps({"error": error}), file=sys.stderr)
        return EXIT_INPUT
    finally:
        service.session.close()


def print_reply(reply: Reply) -> int:
    """Print each outcome as a structured CloudEvent; return the exit code."""
    if reply.verdict.exit_code == EXIT_INPUT:
        print(reply.body.decode(), file=sys.stderr)
    elif not reply.events:
        print(json.dumps(json.loads(reply.body)))
    for event in reply.events:
        print(json.dumps(emit.structured_json(event)))
    return reply.verdict.exit_code


def print_views(views: list[dict[str, Any]]) -> int:
    """Print what a dry run found; the exit code a real run's failure would have."""
    for view in views:
        print(json.dumps(view))
    errors = [v["error"] for v in views if isinstance(v.get("error"), dict)]
    if any(e.get("retryable") for e in errors):
        return EXIT_RETRY
    return EXIT_PERMANENT if errors else EXIT_OK


def with_interfaces(service: Service, views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each view with the NICs its server has now (``"mine"``: made by this function, as
    its mark shows; ``null`` where the API shows no mark)."""
    marks = None
    for view in views:
        if "status" not in view or "error" in view or "skipped" in view:
            continue
        try:
            deadline = service.deadline()
            if marks is None:
                marks = service.backend.discover(deadline).marks
            now = service.backend.list_interfaces(view["project_id"], view["server_id"], deadline)
        except NicAttachError as exc:
            view["interfaces_error"] = exc.message
            continue
        view["interfaces"] = [
            {**i.to_json(), "mine": i.tag.startswith("nicattach:") if marks else None}
            for i in now.interfaces
        ]
    return views


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        policy = load_policy(args.policy)
        refuse_unsupported(policy, args.backend)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_PERMANENT
    print(f"{args.policy}: OK ({len(policy.rules)} rules, {args.backend} backend)")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    service = _start(args)  # the policy loads, and suits the backend, or this stops here
    if isinstance(service, int):
        return service
    project = args.project or service.settings.project_id
    try:
        if not project:
            return _fail(f"check needs --project or ${config.PROJECT_ID}", EXIT_INPUT)
        lines = check(service, load_policy(service.settings.policy_path), project)
    finally:
        service.session.close()
    for line in lines:
        print(line.render())
    if any(line.status == "RETRY" for line in lines):
        return EXIT_RETRY
    return EXIT_PERMANENT if any(line.status == "FAIL" for line in lines) else EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    if not args.policy:
        return _fail(f"explain needs --policy or ${config.POLICY}", EXIT_INPUT)
    try:
        policy = load_policy(args.policy)
        tags = parse_tags(list(args.tag))
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_PERMANENT
    except InputError as exc:
        return _fail(exc.message, EXIT_INPUT)
    print(explain(policy, tags).render())
    return EXIT_OK


def _dev_command(module: str, argv: list[str]) -> int:
    """Run a development tool that lives beside the function, not in its deployed package."""
    try:
        tool = importlib.import_module(module)
    except ImportError:
        return _fail(f"{module} is not installed: run this from a repository checkout", 1)
    code: int = tool.main(argv)
    return code


def _version() -> str:
    try:
        return metadata.version("nic-autoattach")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _fail(message: str, code: int) -> int:
    for line in logs.redact(message).splitlines() or [""]:
        print(f"nic-autoattach: {line}", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
