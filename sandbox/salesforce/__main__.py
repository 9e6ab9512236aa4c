"""Run the emulator in the foreground: ``python -m sandbox.salesforce --port 8765``.

For trying the service by hand or pointing other tools at it; tests and the demo start it
in-process with :class:`~sandbox.salesforce.SalesforceEmulator` instead.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from sandbox.salesforce.config import EmulatorConfig
from sandbox.salesforce.server import SalesforceEmulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.salesforce", description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=Path(".state/salesforce"))
    parser.add_argument(
        "--salesforce-dir", type=Path, default=None, help="SFDX project (default: shipped)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--daily-api-requests", type=int, default=15000)
    parser.add_argument("--token-ttl-seconds", type=int, default=7200)
    args = parser.parse_args(argv)
    config = EmulatorConfig(
        state_dir=args.state_dir,
        salesforce_dir=args.salesforce_dir,
        host=args.host,
        port=args.port,
        daily_api_requests=args.daily_api_requests,
        token_ttl_seconds=args.token_ttl_seconds,
    )
    with SalesforceEmulator(config) as emulator:
        print(f"Salesforce emulator on {emulator.base_url} (state in {args.state_dir})")
        print(f"login as {config.credentials.username}; see docs/salesforce-emulator.md")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping")


if __name__ == "__main__":
    main()
