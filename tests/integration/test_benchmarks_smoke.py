"""``benchmarks/run.py`` still runs: every benchmark, tiny sizes, results in a temporary folder.

Benchmarks are only run by hand (``make bench``), so nothing else notices when a change to
the service breaks them. This runs them end to end as ``make bench`` does (a subprocess),
with sizes too small to mean anything, and checks what they write: the JSON's shape and the
Markdown table, never the figures. The committed ``benchmarks/results`` stay untouched.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "run.py"
COMMITTED = ROOT / "benchmarks" / "results"
ROW_KEYS = {"case", "metric", "value", "unit", "baseline", "note", "ratio"}
MACHINE_KEYS = {"date", "host", "platform", "machine", "cpus", "python", "naturhome_sync"}


def committed_results() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(COMMITTED.glob("*"))}


def check_row(row: dict[str, Any]) -> None:
    assert set(row) == ROW_KEYS, row
    assert isinstance(row["case"], str) and row["case"]
    assert isinstance(row["metric"], str) and row["metric"]
    assert isinstance(row["unit"], str) and row["unit"]
    assert isinstance(row["note"], str)
    assert isinstance(row["value"], int | float) and math.isfinite(row["value"])
    for optional in ("baseline", "ratio"):
        assert row[optional] is None or isinstance(row[optional], int | float), row
    if row["ratio"] is not None:
        assert row["baseline"] not in (None, 0)  # a ratio is always to a baseline


def test_every_benchmark_runs_and_writes_its_json_and_markdown(tmp_path: Path) -> None:
    before = committed_results()
    out = tmp_path / "results"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    run = subprocess.run(
        [sys.executable, str(RUN), "--events", "20", "--requests", "5", "--results-dir", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    postgres = bool(os.environ.get("NATURHOME_TEST_DATABASE_URL"))
    for name in ("inbox_throughput", "intake"):
        data = json.loads((out / f"{name}.json").read_text())
        assert set(data) == {"benchmark", "description", "machine", "params", "rows"}
        assert data["benchmark"] == name
        assert isinstance(data["description"], str) and data["description"]
        assert set(data["machine"]) >= MACHINE_KEYS
        assert data["rows"], f"{name}: no rows"
        for row in data["rows"]:
            check_row(row)
        stores = {
            "PostgreSQL" in row["case"] or row["case"] == "postgresql" for row in data["rows"]
        }
        assert (True in stores) == postgres, f"{name}: PostgreSQL rows iff a URL is set"
        markdown = (out / f"{name}.md").read_text()
        assert markdown.startswith(f"# {name}\n")
        table = [line for line in markdown.splitlines() if line.startswith("| ")]
        assert len(table) == 1 + len(data["rows"])  # the header and one line per row
        assert f"written: {out / f'{name}.json'}" in run.stdout
    assert json.loads((out / "inbox_throughput.json").read_text())["params"]["events"] == 20
    assert json.loads((out / "intake.json").read_text())["params"]["requests"] == 5
    assert committed_results() == before
