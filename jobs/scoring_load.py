"""Reading ``config/scoring.yaml`` and checking it against the Opportunity schema.

Every problem names the file and the dotted key (``rules[2].bands[1].min``) so an admin can
fix the file without reading code; start-up refuses on the first one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from jobs.scoring_rules import (
    Band,
    BandsRule,
    CompletenessRule,
    MonthsUntilRule,
    PostalCodesRule,
    Region,
    Rule,
    ValuesRule,
)
from naturhome_sync.errors import ConfigurationError
from naturhome_sync.mapping.common import fold
from naturhome_sync.mapping.model import Problem
from naturhome_sync.mapping.rules import Collector
from naturhome_sync.mapping.yaml_files import read_yaml
from naturhome_sync.sfschema.model import NUMERIC_TYPES, TEXT_TYPES, FieldDef, ObjectDef, Schema

OBJECT = "Opportunity"
SCORE_FIELD, PRIORITY_FIELD, BREAKDOWN_FIELD = "Score__c", "Priority__c", "Score_Breakdown__c"
_KINDS = ("bands", "values", "months_until", "postal_codes", "completeness")
_KEYS = {
    "bands": {"kind", "label", "field", "unit", "bands"},
    "values": {"kind", "label", "field", "points"},
    "months_until": {"kind", "label", "field", "bands"},
    "postal_codes": {"kind", "label", "country_field", "postal_code_field", "regions"},
    "completeness": {"kind", "label", "fields", "points", "mode"},
}
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


@dataclass(frozen=True)
class ScoringRules:
    path: Path
    rules: tuple[Rule, ...]
    #: (priority, minimum score), highest first: P1 then P2.
    thresholds: tuple[tuple[str, int], ...]
    lowest_priority: str
    breakdown_max_length: int | None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Reader:
    def __init__(self, path: Path, opportunity: ObjectDef, problems: Collector) -> None:
        self.path = path
        self.opportunity = opportunity
        self.problems = problems

    def field(self, raw: Any, key: str, types: frozenset[str] | None) -> FieldDef | None:
        found = self.opportunity.field(raw) if isinstance(raw, str) else None
        if found is None:
            self.problems.add(key, f"{raw!r} is not a field of {OBJECT}")
            return None
        if types is not None and found.type not in types:
            expected = ", ".join(sorted(types))
            self.problems.add(key, f"{found.name} is a {found.type} field; expected {expected}")
            return None
        return found

    def points(self, raw: Any, key: str) -> int:
        if not _is_int(raw):
            self.problems.add(key, "points must be a whole number")
            return 0
        return int(raw)

    def label(self, raw: Any, key: str) -> str:
        if not isinstance(raw, str) or not raw.strip():
            self.problems.add(key, "expected a French label for the breakdown line")
            return ""
        return raw.strip()

    def bands(self, raw: Any, key: str, bound: str) -> tuple[Band, ...]:
        if not isinstance(raw, list) or not raw:
            self.problems.add(key, f"expected a list of {{{bound}:, points:}}")
            return ()
        bands: list[Band] = []
        for index, item in enumerate(raw):
            item_key = f"{key}[{index}]"
            if not isinstance(item, dict) or set(item) != {bound, "points"}:
                self.problems.add(item_key, f"expected exactly {bound}: and points:")
                continue
            limit = item[bound]
            valid = (
                _is_int(limit)
                if bound == "max"
                else (isinstance(limit, int | float) and not isinstance(limit, bool))
            )
            if not valid or limit < 0:
                kind = "whole number of months" if bound == "max" else "number"
                self.problems.add(f"{item_key}.{bound}", f"expected a positive {kind}")
                continue
            band = Band(Decimal(str(limit)), self.points(item["points"], f"{item_key}.points"))
            if bands and band.limit <= bands[-1].limit:
                self.problems.add(
                    f"{item_key}.{bound}",
                    f"bands must be in increasing order of {bound}: "
                    f"{band.limit} comes after {bands[-1].limit}",
                )
            bands.append(band)
        return tuple(bands)

    def values(self, raw: dict[str, Any], key: str) -> Rule | None:
        target = self.field(raw.get("field"), f"{key}.field", TEXT_TYPES | {"Picklist"})
        table = raw.get("points")
        if not isinstance(table, dict) or not table:
            self.problems.add(f"{key}.points", "expected a table of value: points")
            return None
        if target is None:
            return None
        points: dict[str, int] = {}
        display: dict[str, str] = {}
        labels = {v.value: v.label for v in target.picklist_values}
        for value, given in table.items():
            entry_key = f"{key}.points.{value}"
            text = str(value)
            if target.type == "Picklist" and text not in target.picklist_value_set:
                allowed = ", ".join(sorted(target.picklist_value_set))
                self.problems.add(
                    entry_key, f"{text!r} is not a value of {target.name} ({allowed})"
                )
                continue
            points[fold(text)] = self.points(given, entry_key)
            display[fold(text)] = labels.get(text, text)
        return ValuesRule(
            self.label(raw.get("label"), f"{key}.label"), target.name, points, display
        )

    def regions(self, raw: Any, key: str, country: FieldDef | None) -> tuple[Region, ...]:
        if not isinstance(raw, list) or not raw:
            self.problems.add(key, "expected a list of {name:, country:, ranges:, points:}")
            return ()
        regions: list[Region] = []
        for index, item in enumerate(raw):
            item_key = f"{key}[{index}]"
            if not isinstance(item, dict):
                self.problems.add(item_key, "expected {name:, country:, ranges:, points:}")
                continue
            for unknown in sorted(set(map(str, item)) - {"name", "country", "ranges", "points"}):
                self.problems.add(
                    f"{item_key}.{unknown}", "unknown key (name, country, ranges, points)"
                )
            code = item.get("country")
            allowed = country.picklist_value_set if country and country.type == "Picklist" else None
            if not isinstance(code, str) or (allowed is not None and code not in allowed):
                self.problems.add(f"{item_key}.country", f"{code!r} is not a site country")
                continue
            ranges: list[tuple[int, int]] = []
            for position, text in enumerate(item.get("ranges") or []):
                match = _RANGE.match(str(text))
                low = int(match.group(1)) if match else 0
                high = int(match.group(2) or match.group(1)) if match else -1
                if low > high:
                    self.problems.add(
                        f"{item_key}.ranges[{position}]",
                        f"expected 6600-6999 or 6670, not {text!r}",
                    )
                    continue
                ranges.append((low, high))
            regions.append(
                Region(
                    self.label(item.get("name"), f"{item_key}.name"),
                    code,
                    tuple(ranges),
                    self.points(item.get("points"), f"{item_key}.points"),
                )
            )
        return tuple(regions)

    def rule(self, raw: Any, key: str) -> Rule | None:
        if not isinstance(raw, dict) or raw.get("kind") not in _KINDS:
            self.problems.add(f"{key}.kind", f"expected a kind: {', '.join(_KINDS)}")
            return None
        kind = raw["kind"]
        for unknown in sorted(set(map(str, raw)) - _KEYS[kind]):
            self.problems.add(f"{key}.{unknown}", f"unknown key for a {kind} rule")
        label = self.label(raw.get("label"), f"{key}.label")
        if kind == "bands":
            target = self.field(raw.get("field"), f"{key}.field", NUMERIC_TYPES)
            bands = self.bands(raw.get("bands"), f"{key}.bands", "min")
            unit = raw.get("unit", "")
            if not isinstance(unit, str):
                self.problems.add(f"{key}.unit", "expected a text such as € or m²")
            return BandsRule(label, target.name, str(unit), bands) if target else None
        if kind == "months_until":
            target = self.field(raw.get("field"), f"{key}.field", frozenset({"Date"}))
            bands = self.bands(raw.get("bands"), f"{key}.bands", "max")
            return MonthsUntilRule(label, target.name, bands) if target else None
        if kind == "values":
            return self.values(raw, key)
        if kind == "postal_codes":
            country = self.field(
                raw.get("country_field"), f"{key}.country_field", TEXT_TYPES | {"Picklist"}
            )
            postal = self.field(
                raw.get("postal_code_field"), f"{key}.postal_code_field", TEXT_TYPES
            )
            regions = self.regions(raw.get("regions"), f"{key}.regions", country)
            if country is None or postal is None:
                return None
            return PostalCodesRule(label, country.name, postal.name, regions)
        names = raw.get("fields")
        if not isinstance(names, list) or not names:
            self.problems.add(f"{key}.fields", "expected a list of Opportunity fields")
            names = []
        found = [self.field(n, f"{key}.fields[{i}]", None) for i, n in enumerate(names)]
        mode = raw.get("mode", "proportional")
        if mode not in ("proportional", "all_or_nothing"):
            self.problems.add(f"{key}.mode", "expected proportional or all_or_nothing")
        points = self.points(raw.get("points"), f"{key}.points")
        fields = tuple(f.name for f in found if f is not None)
        return CompletenessRule(label, fields, points, mode == "proportional")

    def thresholds(self, raw: Any, priority: FieldDef | None) -> tuple[tuple[str, int], ...]:
        if not isinstance(raw, dict) or set(raw) != {"P1", "P2"}:
            self.problems.add("priorities", "expected P1: and P2: minimum scores (P3 below P2)")
            return ()
        for name in ("P1", "P2", "P3"):
            if priority is not None and name not in priority.picklist_value_set:
                self.problems.add("priorities", f"{PRIORITY_FIELD} has no value {name}")
        for name in ("P1", "P2"):
            if not _is_int(raw[name]) or not 0 < raw[name] <= 100:
                self.problems.add(f"priorities.{name}", "expected a whole score between 1 and 100")
                return ()
        if raw["P1"] <= raw["P2"]:
            self.problems.add("priorities.P1", f"P1 ({raw['P1']}) must be above P2 ({raw['P2']})")
        return (("P1", raw["P1"]), ("P2", raw["P2"]))


def _read(path: Path, schema: Schema) -> tuple[ScoringRules | None, list[Problem]]:
    problems = Collector(str(path))
    try:
        raw = read_yaml(path)
    except ConfigurationError as exc:
        return None, [Problem(str(path), "", str(exc).removeprefix(f"{path}: "))]
    opportunity = schema.object(OBJECT)
    if opportunity is None:
        return None, [Problem(str(path), "", f"the schema has no {OBJECT}")]
    for needed in (SCORE_FIELD, PRIORITY_FIELD, BREAKDOWN_FIELD):
        if opportunity.field(needed) is None:
            problems.add("", f"the schema has no {OBJECT}.{needed} to write the score into")
    if not isinstance(raw, dict):
        problems.add("", "expected a YAML mapping with version:, priorities: and rules:")
        return None, problems.problems
    for unknown in sorted(set(map(str, raw)) - {"version", "priorities", "rules"}):
        problems.add(unknown, "unknown key (version, priorities, rules)")
    if raw.get("version") != 1:
        problems.add("version", "expected version: 1")
    reader = _Reader(path, opportunity, problems)
    thresholds = reader.thresholds(raw.get("priorities"), opportunity.field(PRIORITY_FIELD))
    raw_rules = raw.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.add("rules", "expected a list of rules")
        raw_rules = []
    rules = [reader.rule(item, f"rules[{index}]") for index, item in enumerate(raw_rules)]
    if problems.problems:
        return None, problems.problems
    breakdown = opportunity.field(BREAKDOWN_FIELD)
    return ScoringRules(
        path=path,
        rules=tuple(r for r in rules if r is not None),
        thresholds=thresholds,
        lowest_priority="P3",
        breakdown_max_length=breakdown.max_length if breakdown else None,
    ), []


def load_scoring(path: Path, schema: Schema) -> ScoringRules:
    """The checked rules in ``path``; ``ConfigurationError`` naming file and key otherwise."""
    rules, problems = _read(path, schema)
    if problems:
        first = problems[0]
        raise ConfigurationError(first.message, source=first.file, key=first.key or None)
    assert rules is not None
    return rules


def check_scoring(path: Path, schema: Schema) -> list[Problem]:
    """Every problem of the scoring file (empty when it is fine)."""
    return _read(path, schema)[1]
