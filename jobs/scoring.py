"""Lead scoring: the pure core of the intake's Score__c, Priority__c and Score_Breakdown__c.

Rules live in ``config/scoring.yaml`` (the shipped file explains each choice) and are
checked against the Salesforce schema at start-up, like mappings. ``score`` is pure: the same
Opportunity fields and the same submission date always give the same score, so a replay never
re-prioritises a dossier by accident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jobs.scoring_load import (
    BREAKDOWN_FIELD,
    PRIORITY_FIELD,
    SCORE_FIELD,
    ScoringRules,
    check_scoring,
    load_scoring,
)
from naturhome_sync.mapping.model import Problem
from naturhome_sync.paths import shipped_dir

MIN_SCORE, MAX_SCORE = 0, 100


@dataclass(frozen=True)
class ScoreResult:
    score: int
    priority: str
    breakdown: str
    lines: list[str]

    def fields(self) -> dict[str, Any]:
        """The Opportunity fields to write (an empty breakdown is sent as a blank field)."""
        return {
            SCORE_FIELD: self.score,
            PRIORITY_FIELD: self.priority,
            BREAKDOWN_FIELD: self.breakdown or None,
        }


def score(rules: ScoringRules, opportunity_fields: Mapping[str, Any], today: date) -> ScoreResult:
    """Score 0-100 (clamped), its priority and one French line per rule that gave points.

    ``today`` is the submission date (``naturhome_sync.mapping.submission_date``), not the
    clock. Lines keep the order of the rules in the file.
    """
    total = 0
    lines: list[str] = []
    for rule in rules.rules:
        outcome = rule.evaluate(opportunity_fields, today)
        if outcome is None or outcome[0] == 0:
            continue
        points, line = outcome
        total += points
        lines.append(line)
    clamped = max(MIN_SCORE, min(MAX_SCORE, total))
    priority = next(
        (name for name, threshold in rules.thresholds if clamped >= threshold),
        rules.lowest_priority,
    )
    breakdown = "\n".join(lines)
    limit = rules.breakdown_max_length
    if limit is not None and len(breakdown) > limit:
        breakdown = breakdown[: limit - 1] + "…"
    return ScoreResult(score=clamped, priority=priority, breakdown=breakdown, lines=lines)


def shipped_scoring_file() -> Path:
    return shipped_dir("config") / "scoring.yaml"


__all__ = [
    "Problem",
    "ScoreResult",
    "ScoringRules",
    "check_scoring",
    "load_scoring",
    "score",
    "shipped_scoring_file",
]
