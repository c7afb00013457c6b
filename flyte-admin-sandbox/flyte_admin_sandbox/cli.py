"""``airflow-flyte``: the command line of the Flyte Admin sandbox (installed with ``flyte-admin-sandbox``).

``airflow-flyte sandbox`` serves a local Flyte Admin; ``airflow-flyte demo`` runs the example DAG end to end on an
embedded sandbox. Both import their machinery only when chosen, so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path


def _sandbox(args: argparse.Namespace) -> int:
    """Serve until SIGINT (Ctrl+C), SIGTERM or SIGHUP; the client secret file (``--auth``) is removed on the way out."""
    from flyte_admin_sandbox import FlyteSandbox

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for signum in _STOP_SIGNALS:
        signal.signal(signum, lambda *_: stop.set())
    secret_file: Path | None = None
    try:
        with FlyteSandbox(
            host=args.host,
            port=args.port,
            db_path=args.db,
            tls=args.tls,
            auth=args.auth,
            seed=not args.no_seed,
            run_containers=args.run_containers,
            log_rpcs=not args.quiet,
            http_port=args.http_port,
        ) as sandbox:
            print(f"Flyte sandbox serving Flyte Admin on {sandbox.endpoint} (Ctrl+C to stop)", flush=True)
            print(f"Flyte console: {sandbox.console_endpoint}/console", flush=True)
            if args.auth:
                secret_file = _write_private(sandbox.client_secret)
                print(
                    f"OAuth2 client credentials: client id {sandbox.config.client_id!r}, secret in {secret_file} "
                    "(FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION; the file is removed when the sandbox stops)",
                    flush=True,
                )
            if args.tls and sandbox.ca_cert_path is not None:
                print(f"CA certificate for clients: {sandbox.ca_cert_path}", flush=True)
            # Wait in short slices: a signal the kernel hands to one of gRPC's threads only runs its Python handler
            # when the main thread comes back to the interpreter, which an untimed wait never does.
            while not stop.wait(_SIGNAL_POLL_SECONDS):
                pass
    finally:
        if secret_file is not None:
            _remove_private(secret_file)
    return 0


_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
"""Signals that stop ``airflow-flyte sandbox`` cleanly (SIGHUP: the terminal went away)."""
_SIGNAL_POLL_SECONDS = 0.2


def _write_private(secret: str) -> Path:
    """Write a secret to a new file only the current user can read, and return its path (secrets are never printed)."""
    path = Path(tempfile.mkdtemp(prefix="flyte-sandbox-")) / "client_secret"
    path.touch(mode=0o600)
    path.write_text(secret)
    return path


def _remove_private(path: Path) -> None:
    """Remove a file written by :func:`_write_private` and its private directory."""
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()


def _demo(args: argparse.Namespace) -> int:
    ui_options = (args.port, args.http_port, args.airflow_port, args.airflow_home)
    if not args.ui and any(option not in (None, 0) for option in ui_options):
        print("airflow-flyte demo: --port, --http-port, --airflow-port and --airflow-home need --ui", file=sys.stderr)
        return 2
    if args.ui:
        from flyte_admin_sandbox.demo_ui import run_demo_ui

        return run_demo_ui(
            port=args.port,
            http_port=args.http_port,
            airflow_port=args.airflow_port,
            airflow_home=args.airflow_home,
            keep_home=args.keep_home,
        )
    from flyte_admin_sandbox.demo import run_demo

    return run_demo(keep_home=args.keep_home)


DESCRIPTION = (
    "A local Flyte Admin for tests and demos, from the flyte-admin-sandbox package: 'sandbox' serves one, "
    "'demo' runs the example DAGs of airflow-provider-flyte against an embedded one. Not for production."
)
"""What ``airflow-flyte --help`` says: plain text (the module docstring is reStructuredText)."""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``airflow-flyte``."""
    parser = argparse.ArgumentParser(prog="airflow-flyte", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)

    sandbox = commands.add_parser("sandbox", help="serve a local Flyte Admin (gRPC) that runs workflows")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    sandbox.add_argument("--port", type=int, default=30080, help="gRPC port (default: %(default)s)")
    sandbox.add_argument("--http-port", type=int, default=0, help="console, blob URL and OAuth2 port (default: free)")
    sandbox.add_argument("--db", metavar="PATH", help="SQLite file keeping state across restarts (default: memory)")
    sandbox.add_argument("--tls", action="store_true", help="serve TLS with a generated certificate")
    sandbox.add_argument("--auth", action="store_true", help="require OAuth2 client-credentials tokens")
    sandbox.add_argument("--no-seed", action="store_true", help="start empty: no flytesnacks project or demo workflows")
    sandbox.add_argument(
        "--run-containers", action="store_true", help="run flytekit container tasks as local processes (needs flytekit)"
    )
    sandbox.add_argument("--quiet", action="store_true", help="do not log each RPC")
    sandbox.set_defaults(handler=_sandbox)

    demo = commands.add_parser("demo", help="run the example DAGs end to end on an embedded sandbox")
    demo.add_argument("--keep-home", action="store_true", help="keep the temporary AIRFLOW_HOME for inspection")
    demo.add_argument(
        "--ui",
        action="store_true",
        help="instead, run a real Airflow (UI, scheduler, triggerer) with the example DAGs next to the sandbox and "
        "its console, to click through, until Ctrl+C",
    )
    ui = demo.add_argument_group("with --ui")
    ui.add_argument("--port", type=int, default=0, help="sandbox gRPC port (default: free)")
    ui.add_argument("--http-port", type=int, default=0, help="sandbox console port (default: free)")
    ui.add_argument("--airflow-port", type=int, help="Airflow UI and API port (default: 8080 if free, else free)")
    ui.add_argument("--airflow-home", type=Path, help="AIRFLOW_HOME to use and keep (default: a temporary one)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``airflow-flyte`` with ``argv`` (default: the process arguments) and return the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
