"""``mlops-console deploy``: start, stop, roll out and roll back embedded deployments.

    deploy MODEL --alias A [--name N] [--json]    start a supervised predict service
    deploy stop NAME                              stop it (or clear a stale record)
    deploy rollout NAME [--yes] [--json]          reload on the alias's current version
    deploy rollback NAME [--to V] [--force --reason R] [--yes] [--json]

Exit 0 done or nothing to do, 1 cancelled or failed, 3 read-only, 4 refused.
"""

from __future__ import annotations

import argparse
import sys

from console.cli._common import deployment_name, print_json, run_async, say

ACTIONS = ("stop", "rollout", "rollback")
EXIT_CODES = {"succeeded": 0, "noop": 0, "cancelled": 1, "failed": 1, "refused": 4}


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser(
        "deploy",
        help="deploy a model version behind an alias as a local predict service; "
        "stop, rollout, rollback",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "words", nargs="+", metavar="ARG", help="MODEL, or stop/rollout/rollback NAME"
    )
    parser.add_argument("--alias", metavar="A", help="deploy the version behind alias A")
    parser.add_argument(
        "--name",
        metavar="N",
        type=deployment_name,
        help="deployment name (default: the model name)",
    )
    parser.add_argument("--to", metavar="V", help="rollback: the version to go back to")
    parser.add_argument("--force", action="store_true", help="rollback: override failed gates")
    parser.add_argument("--reason", metavar="R", help="rollback: why (audited)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_deploy)


def _deploy(args: argparse.Namespace, settings) -> int:
    import argparse as _argparse

    from console.errors import ConsoleError, UsageError

    words = args.words
    if len(words) == 2 and words[0] in ACTIONS:
        try:
            name = deployment_name(words[1])
        except _argparse.ArgumentTypeError as exc:
            raise UsageError(f"deploy {words[0]}: {exc}") from None
        return {"stop": _stop, "rollout": _rollout, "rollback": _rollback}[words[0]](
            args, settings, name
        )
    if len(words) != 1:
        raise ConsoleError(
            "deploy: give MODEL --alias A, or stop|rollout|rollback NAME",
            hint="see `mlops-console deploy --help`",
        )
    if not args.alias:
        raise ConsoleError(f"deploy {words[0]}: --alias is required (the version behind it)")
    return _start(args, settings, words[0])


def _progress(message: str) -> None:
    from console.safe_text import printable

    print(printable(message), file=sys.stderr, flush=True)


def _start(args: argparse.Namespace, settings, model: str) -> int:
    from commands.deploy import resolve_alias, start_deployment
    from console.errors import ReadOnlyError

    if settings.read_only:
        raise ReadOnlyError(f"deploy {model}@{args.alias}")
    from console.connection import resolve_tracking_uri
    from console.mlflow.client import MlflowRestClient

    uri = resolve_tracking_uri(settings, _progress)

    async def alias_version() -> str:
        async with MlflowRestClient.from_settings(settings, tracking_uri=uri) as client:
            return await resolve_alias(client, model, args.alias)

    version = run_async(alias_version)
    info = start_deployment(
        settings,
        model=model,
        alias=args.alias,
        version=version,
        tracking_uri=uri,
        name=args.name,
        progress=_progress,
    )
    if args.json:
        print_json(info)
    else:
        say(f"deployed {info.model} v{info.version} ({info.alias}) as {info.name} at {info.url}")
    return 0


def _stop(args: argparse.Namespace, settings, name: str) -> int:
    from commands.deploy import stop_deployment

    record = stop_deployment(settings, name)
    if args.json:
        print_json({"name": name, "stopped": record is not None})
    elif record is None:
        from commands.deploy_records import DeployError

        raise DeployError(f"no deployment named {name}", hint="see `mlops-console deployments`")
    else:
        say(f"stopped {name} ({record.model} v{record.version} at {record.url})")
    return 0 if record is not None else 1


def _driver(args: argparse.Namespace):
    from commands.driver import TerminalDriver

    return TerminalDriver(assume_yes=args.yes)


def _run_flow(args: argparse.Namespace, settings, name: str, flow: str) -> int:
    from console.errors import ReadOnlyError

    if settings.read_only:
        raise ReadOnlyError(f"{flow} deployment {name}")
    driver = _driver(args)

    async def work():
        from commands.rollout import DeployContext, rollback, rollout
        from console.connection import resolve_tracking_uri
        from console.mlflow.client import MlflowRestClient

        uri = resolve_tracking_uri(settings, driver.progress)
        async with MlflowRestClient.from_settings(settings, tracking_uri=uri) as client:
            ctx = DeployContext.from_settings(settings, client, uri)
            if flow == "rollout":
                return await rollout(ctx, name, driver)
            return await rollback(
                ctx, name, driver, to_version=args.to, force=args.force, reason=args.reason
            )

    result = run_async(work)
    if result.outcome == "refused" and (result.promotion or {}).get("overridable"):
        from console.promotion_model import CLI_OVERRIDE_HINT

        result.message = f"{result.message} ({CLI_OVERRIDE_HINT})"
    if args.json:
        print_json(result)
    else:
        say(f"{result.outcome}: {result.message}")
        if result.audit_id:
            print(f"audit record {result.audit_id}")
    return EXIT_CODES[result.outcome]


def _rollout(args: argparse.Namespace, settings, name: str) -> int:
    return _run_flow(args, settings, name, "rollout")


def _rollback(args: argparse.Namespace, settings, name: str) -> int:
    return _run_flow(args, settings, name, "rollback")
