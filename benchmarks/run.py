"""``make bench``: run the benchmarks and write benchmarks/results/<name>.{json,md}.

Usage: python benchmarks/run.py [NAME ...] [--events N] [--requests N] [--results-dir DIR]
PostgreSQL figures need NATURHOME_BENCH_DATABASE_URL (or NATURHOME_TEST_DATABASE_URL).
``--results-dir`` writes elsewhere than the committed benchmarks/results (a smoke run).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `benchmarks` as a package

from benchmarks import inbox_throughput, intake
from benchmarks.harness import RESULTS_DIR, machine, write
from naturhome_sync.logs import configure_logging

BENCHMARKS = {
    "inbox_throughput": inbox_throughput.run,
    "intake": intake.run,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", default=list(BENCHMARKS), help="benchmarks to run")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument(
        "--requests", type=int, default=500, help="webhook deliveries timed by `intake`"
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS_DIR,
        help="where to write <name>.json and <name>.md (default: benchmarks/results)",
    )
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {sorted(BENCHMARKS)}")
    options = {
        "events": args.events,
        "requests": args.requests,
        "postgres_url": os.environ.get("NATURHOME_BENCH_DATABASE_URL")
        or os.environ.get("NATURHOME_TEST_DATABASE_URL"),
    }
    configure_logging("WARNING", "json")
    info = machine()
    for name in args.names:
        result = BENCHMARKS[name](options)
        json_path, md_path = write(result, info, args.results_dir)
        print(md_path.read_text())
        print(f"written: {json_path}, {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
