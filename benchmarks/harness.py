"""Benchmark harness: run named benchmarks, write JSON + Markdown with the machine's details.

Figures that depend on the machine are always reported next to a baseline measured in the
same run (a ratio survives a noisy or slower machine); absolute numbers are kept for context.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    """One line of a result table: a figure, its unit, and how it compares to the baseline."""

    case: str
    metric: str
    value: float
    unit: str
    baseline: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline  # type: ignore[operator]


@dataclass
class Result:
    name: str
    description: str
    rows: list[Row] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


Benchmark = Callable[[dict[str, Any]], Result]


def machine() -> dict[str, Any]:
    versions = {}
    for package in (
        "sqlalchemy",
        "psycopg",
        "fastapi",
        "uvicorn",
        "simple-salesforce",
        "hubspot-api-client",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "naturhome_sync": metadata.version("naturhome-sync"),
        "git_commit": commit,
        "packages": versions,
    }


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def write(
    result: Result, info: dict[str, Any], results_dir: Path = RESULTS_DIR
) -> tuple[Path, Path]:
    """``<results_dir>/<name>.json`` and ``.md``; the default is the committed results."""
    results_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "benchmark": result.name,
        "description": result.description,
        "machine": info,
        "params": result.params,
        "rows": [{**asdict(row), "ratio": row.ratio} for row in result.rows],
    }
    json_path = results_dir / f"{result.name}.json"
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    md_path = results_dir / f"{result.name}.md"
    md_path.write_text(markdown(result, info))
    return json_path, md_path


def markdown(result: Result, info: dict[str, Any]) -> str:
    lines = [
        f"# {result.name}",
        "",
        result.description,
        "",
        f"Run {info['date']} on {info['host']} ({info['platform']}, {info['cpus']} CPUs, "
        f"Python {info['python']}, naturhome-sync {info['naturhome_sync']}"
        + (f" @ {info['git_commit']}" if info.get("git_commit") else "")
        + ").",
        "",
        f"Parameters: {json.dumps(result.params)}",
        "",
        "| case | metric | value | unit | baseline | ratio | note |",
        "|---|---|---:|---|---:|---:|---|",
    ]
    for row in result.rows:
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else ""
        baseline = f"{row.baseline:,.1f}" if row.baseline is not None else ""
        lines.append(
            f"| {row.case} | {row.metric} | {row.value:,.2f} | {row.unit} | {baseline} | "
            f"{ratio} | {row.note} |"
        )
    return "\n".join(lines) + "\n"
