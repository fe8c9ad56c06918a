"""``python -m commands.serve``: load one model version, then serve it until SIGTERM.

The model is loaded before the port is bound, so a service that answers ``/ping`` is ready to
score. A load failure is one line on stderr and exit 2 (the supervisor logs it and retries).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from commands.serve import options


def main(argv: list[str] | None = None) -> int:
    args = options.parse(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s serve[%(process)d] %(levelname)s %(message)s"
    )
    from commands.serve import inference_log, loader
    from commands.serve.app import ServiceState, build_app
    from commands.serve.metrics import ServiceMetrics

    token = None
    if args.reload_token_file:
        try:
            token = Path(args.reload_token_file).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            print(f"serve: error: cannot read the reload token file: {exc}", file=sys.stderr)
            return 2
        if len(token) < 16:
            print("serve: error: the reload token file holds no token", file=sys.stderr)
            return 2
    try:
        served = loader.load(
            args.model, args.version, tracking_uri=args.tracking_uri, model_dir=args.model_dir
        )
    except loader.LoadError as exc:
        print(f"serve: error: {exc}", file=sys.stderr, flush=True)
        return 2
    log = None
    if args.home and not args.no_inference_log:
        log = inference_log.InferenceLog(Path(args.home), flush_seconds=args.flush_seconds)
    state = ServiceState(
        served=served,
        deployment=args.name,
        alias=args.alias or "",
        tracking_uri=args.tracking_uri,
        model_dir=args.model_dir,
        max_body_bytes=args.max_body_bytes,
        max_rows=args.max_rows,
        metrics=ServiceMetrics(labels={"deployment": args.name, "model": args.model}),
        inference_log=log,
        reload_token=token,
    )
    import uvicorn

    print(
        f"serve: {served.uri} ({served.inputs.source} input schema) as {args.name!r} "
        f"on http://{args.host}:{args.port}",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(
        build_app(state),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 3


if __name__ == "__main__":
    raise SystemExit(main())
