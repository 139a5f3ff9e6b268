"""Command line: ``mlemu serve`` (a loopback workspace for subprocesses and other languages;
``--ui`` adds the MLflow web UI), ``mlemu ui PATH`` (a saved workspace, e.g. a failed test's
``--mlemu-keep-failed`` export, opened in the MLflow web UI) and ``mlemu coverage`` (docs/coverage.md: the coverage sweep of the real clients and the
routing table)."""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from typing import Any


def _stop_on_sigterm() -> None:
    """SIGTERM ends the server as Ctrl-C does, so ``finally`` blocks and exit handlers (the
    temporary file root's removal) run."""
    import signal

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _serve(args: argparse.Namespace) -> int:
    from mlemu.workspace import Workspace
    from mlemu.server.transport.server import LoopbackServer

    # A served workspace is reachable by other processes: its token and the secret that signs
    # its pre-signed URLs are random (the seed still makes ids reproducible).
    token = args.token or "dapi" + secrets.token_hex(16)
    _stop_on_sigterm()
    scratch: tempfile.TemporaryDirectory | None = None
    answerer: Any
    if args.state_dir:
        from mlemu.toolkit.statedir import open_state_dir

        # Files live in memory and in the checkpoints: the log replays their uploads.
        root = os.path.join(args.state_dir, "")
        answerer = open_state_dir(args.state_dir, Workspace, seed=args.seed, user_name=args.user,
                                  token=token, journal_size=args.journal)
        ws = answerer.workspace
    else:
        root = None if args.memory else args.artifact_root
        if root is None and not args.memory:  # a directory of our own, removed when we stop
            scratch = tempfile.TemporaryDirectory(prefix="mlemu-", ignore_cleanup_errors=True)
            root = scratch.name
        ws = answerer = Workspace(seed=args.seed, user_name=args.user, token=token, artifact_root=root,
                                  secret=secrets.token_bytes(32), journal_size=args.journal)
    ws.calls.max_body_bytes = args.journal_max_body
    if args.ui and args.state_dir:
        print("mlemu serve: --ui does not work with --state-dir yet", file=sys.stderr, flush=True)
        return 2
    if args.ui:
        from mlemu.server.ui import server as ui_server
        from mlemu.server.ui.bundle import UiUnavailable, build_dir
        try:
            build_dir()
        except UiUnavailable as e:
            print(f"mlemu serve --ui: {e}", file=sys.stderr, flush=True)
            return 2
        print(f"# mlemu is serving (files under {root or 'memory'}); Ctrl-C to stop",
              file=sys.stderr, flush=True)
        return ui_server.run(ws, args.host, args.port, public_url=args.public_url,
                             read_timeout=args.read_timeout, request_deadline=args.request_deadline)
    server = LoopbackServer(answerer, args.host, args.port, public_url=args.public_url,
                            read_timeout=args.read_timeout, request_deadline=args.request_deadline)
    ws.host = server.public_url
    print(f"export DATABRICKS_HOST={server.public_url}", flush=True)
    print(f"export DATABRICKS_TOKEN={ws.token}", flush=True)
    print(f"# mlemu is serving (files under {root or 'memory'}); Ctrl-C to stop",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def _ui(args: argparse.Namespace) -> int:
    """Load an export (``ws.export(path)``, ``--mlemu-keep-failed``) and browse it in the UI."""
    _stop_on_sigterm()
    import zipfile
    from mlemu.server.ui import server as ui_server
    from mlemu.server.ui.bundle import UiUnavailable, build_dir
    from mlemu.workspace import Workspace

    try:
        build_dir()
    except UiUnavailable as e:
        print(f"mlemu ui: {e}", file=sys.stderr, flush=True)
        return 2
    try:
        ws = Workspace.load(args.path, token=args.token or "dapi" + secrets.token_hex(16),
                            secret=secrets.token_bytes(32))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        print(f"mlemu ui: cannot open {args.path}: {e}", file=sys.stderr, flush=True)
        return 2
    print(f"# {args.path}: the workspace saved there, in the MLflow UI; Ctrl-C to stop",
          file=sys.stderr, flush=True)
    return ui_server.run(ws, args.host, args.port, public_url=args.public_url)


def _coverage(args: argparse.Namespace) -> int:
    import os

    from mlemu.toolkit import coverage

    if args.no_sweep:
        previous = None
        if args.output != "-" and os.path.exists(args.output):
            with open(args.output, encoding="utf-8") as fh:
                previous = coverage.split(fh.read())[0]
        text = coverage.render_markdown(previous)
    else:
        from mlemu.toolkit import sweep

        text = coverage.render_markdown(coverage.render_sweep(sweep.run(), coverage.client_versions()))
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlemu", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve an emulated workspace on a loopback port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--user", default="user@company.com")
    serve.add_argument("--token", default=None, help="the accepted token (default: a random one)")
    serve.add_argument("--public-url", default=None,
                       help="the address clients use, for pre-signed URLs (default: http://HOST:PORT)")
    serve.add_argument("--journal", default="1000",
                       help="calls the journal keeps: 'off', a count (the last N) or 'all' (default: 1000)")
    serve.add_argument("--journal-max-body", type=int, default=64 * 1024,
                       help="request/response bodies over this many bytes are not kept in the journal")
    serve.add_argument("--read-timeout", type=float, default=30.0,
                       help="seconds a socket read or an idle keep-alive connection may take")
    serve.add_argument("--request-deadline", type=float, default=120.0,
                       help="seconds from the wait for a request until all of it must have arrived")
    serve.add_argument("--artifact-root", default=None,
                       help="keep files and artifacts in this directory (default: a new temp dir)")
    serve.add_argument("--memory", action="store_true", help="keep files and artifacts in memory")
    serve.add_argument("--state-dir", default=None,
                       help="keep the whole workspace in this directory across restarts (a write-ahead "
                            "log, crash-safe; docs/persistence.md); its token wins over --token")
    serve.add_argument("--ui", action="store_true",
                       help="also serve the MLflow web UI of the installed mlflow (prints a login URL)")
    serve.set_defaults(func=_serve)
    ui = sub.add_parser("ui", help="open a saved workspace (an export) in the MLflow web UI")
    ui.add_argument("path", help="a workspace export: ws.export(path) or a --mlemu-keep-failed file")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    ui.add_argument("--token", default=None, help="the accepted token (default: a random one)")
    ui.add_argument("--public-url", default=None, help="the address the browser uses")
    ui.set_defaults(func=_ui)
    cov = sub.add_parser("coverage", help="print the coverage table of emulated endpoints")
    cov.add_argument("-o", "--output", default="-")
    cov.add_argument("--no-sweep", action="store_true",
                     help="only regenerate the routing table (keep the sweep section of --output)")
    cov.set_defaults(func=_coverage)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before the server loop began: a clean stop
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
