"""Snapshot tests of the shipped HubSpot quote-request mapping and scoring rules.

Each ``hubspot_quote_request/*.json`` file holds a sample submission (``input``: the form
values plus the keys the intake adds) and what must come out of it (``expected``): the records
as they will be sent to Salesforce, the warnings for the sales rep and the score, or the error
that refuses the submission. These files are the specification: read them by eye when they
change.

After a deliberate change to the mapping, the scoring rules or the engine, rewrite the
expected outputs with::

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/snapshots

then review the diff (``git diff tests/snapshots``) before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from connectors.salesforce_values import encode_record as salesforce_record
from jobs.scoring import load_scoring, score, shipped_scoring_file
from naturhome_sync.errors import PermanentDataError
from naturhome_sync.mapping import (
    MappingSpec,
    apply_mapping,
    load_mapping,
    submission_date,
)
from naturhome_sync.paths import shipped_dir
from naturhome_sync.sfschema import load_schema

SNAPSHOTS = Path(__file__).parent / "hubspot_quote_request"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"


@pytest.fixture(scope="module")
def mapping() -> MappingSpec:
    return load_mapping(shipped_dir("mappings") / "hubspot_quote_request.yaml", load_schema())


def outcome(mapping: MappingSpec, submission: dict[str, Any]) -> dict[str, Any]:
    try:
        mapped = apply_mapping(mapping, submission)
    except PermanentDataError as exc:
        return {"error": {"category": exc.category, "code": exc.code, "message": exc.message}}
    rules = load_scoring(shipped_scoring_file(), load_schema())
    result = score(
        rules, mapped.records["Opportunity"], submission_date(submission["submitted_at"])
    )
    return {
        "records": {name: salesforce_record(fields) for name, fields in mapped.records.items()},
        "warnings": [
            {
                "object": w.object,
                "field": w.field,
                "source_field": w.source_field,
                "message": w.message,
            }
            for w in mapped.warnings
        ],
        "intake_warnings": mapped.warning_text(),
        "score": {"score": result.score, "priority": result.priority, "lines": result.lines},
    }


@pytest.mark.parametrize("path", sorted(SNAPSHOTS.glob("*.json")), ids=lambda p: p.stem)
def test_snapshot(mapping: MappingSpec, path: Path) -> None:
    snapshot = json.loads(path.read_text(encoding="utf-8"))
    actual = outcome(mapping, snapshot["input"])
    # what json would give back, so the comparison ignores Python-only types
    actual = json.loads(json.dumps(actual))
    if UPDATE:
        changed = snapshot["expected"] != actual
        snapshot["expected"] = actual
        text = json.dumps(snapshot, ensure_ascii=False, indent=2) + "\n"
        path.write_text(text, encoding="utf-8")
        # Rewriting is never a pass: a changed snapshot is a spec change to review.
        if changed:
            pytest.fail(
                f"{path.name} rewritten: review `git diff`, then run without UPDATE_SNAPSHOTS"
            )
        return
    assert snapshot["expected"] is not None, f"{path.name}: run with UPDATE_SNAPSHOTS=1 once"
    assert actual == snapshot["expected"]


def test_there_are_enough_samples() -> None:
    assert len(list(SNAPSHOTS.glob("*.json"))) >= 5
