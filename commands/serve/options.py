"""The predict service's command line: one parser shared by the service, ``deploy`` and the tests.

Every option also has an ``MLOPS_SERVE_*`` environment variable as its default, so a container
image can fix the model at build time while its entry point stays the module invocation that
``deploy`` uses. Stdlib only: the console imports this to build the service's command.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

MODULE = "commands.serve"
DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_ROWS = 10_000
DEFAULT_FLUSH_SECONDS = 2.0

# option -> environment variable giving its default (for the container image)
ENV = {
    "model": "MLOPS_SERVE_MODEL",
    "version": "MLOPS_SERVE_VERSION",
    "alias": "MLOPS_SERVE_ALIAS",
    "name": "MLOPS_SERVE_NAME",
    "port": "MLOPS_SERVE_PORT",
    "host": "MLOPS_SERVE_HOST",
    "tracking_uri": "MLOPS_SERVE_TRACKING_URI",
    "home": "MLOPS_SERVE_HOME",
    "model_dir": "MLOPS_SERVE_MODEL_DIR",
    "reload_token_file": "MLOPS_SERVE_RELOAD_TOKEN_FILE",
}


def parser(env: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    env = os.environ if env is None else env

    def default(key: str, fallback: str | None = None) -> str | None:
        return env.get(ENV[key]) or fallback

    p = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__)
    p.add_argument("--model", default=default("model"), help="registered model name")
    p.add_argument("--version", default=default("version"), help="model version to serve")
    p.add_argument("--alias", default=default("alias", ""), help="alias it was deployed from")
    p.add_argument("--name", default=default("name"), help="deployment name (default: MODEL)")
    p.add_argument("--host", default=default("host", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(default("port", "8080") or 8080))
    p.add_argument("--tracking-uri", default=default("tracking_uri"), help="MLflow server URL")
    p.add_argument("--home", default=default("home"), help="console home (inference log)")
    p.add_argument(
        "--model-dir",
        default=default("model_dir"),
        help="load the model from this local MLflow model directory instead of models:/M/V",
    )
    p.add_argument(
        "--reload-token-file",
        default=default("reload_token_file"),
        help="file holding the token POST /reload must send as 'Authorization: Bearer'; "
        "without it /reload is refused (403)",
    )
    p.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES)
    p.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS)
    p.add_argument("--flush-seconds", type=float, default=DEFAULT_FLUSH_SECONDS)
    p.add_argument(
        "--no-inference-log", action="store_true", help="do not append to lake.ml.inference_log"
    )
    return p


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = parser()
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    missing = [f"--{k.replace('_', '-')}" for k in ("model", "version") if not getattr(args, k)]
    if missing:
        p.error(f"missing {', '.join(missing)} (or the MLOPS_SERVE_* variables)")
    if not args.model_dir and not args.tracking_uri:
        p.error("give --tracking-uri (or --model-dir for a model copied into the image)")
    args.name = args.name or args.model
    return args


def command(
    python: str,
    *,
    model: str,
    version: str,
    alias: str,
    name: str,
    port: int,
    tracking_uri: str,
    home: str,
    reload_token_file: str | None = None,
) -> list[str]:
    """The exact command ``deploy`` runs (and the container image's entry point continues)."""
    token = ["--reload-token-file", reload_token_file] if reload_token_file else []
    return [
        python,
        "-m",
        MODULE,
        "--model",
        model,
        "--version",
        str(version),
        "--alias",
        alias,
        "--name",
        name,
        "--port",
        str(port),
        "--tracking-uri",
        tracking_uri,
        "--home",
        home,
        *token,
    ]
