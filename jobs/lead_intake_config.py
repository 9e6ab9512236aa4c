"""Reading ``config/lead_intake.yaml`` and checking it against the Salesforce schema.

Everything the intake needs besides the submission is loaded here once, at start-up: the
mapping, the scoring rules and this file. A problem stops start-up with a
``ConfigurationError`` naming the file and the dotted key (``owner_rules[1].postal_codes[0]``),
so a typo is found by the admin who made it, not by the first client who fills in the form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.scoring import ScoringRules, load_scoring
from naturhome_sync.errors import ConfigurationError
from naturhome_sync.mapping import MappingSpec, Problem, load_mappings
from naturhome_sync.mapping.rules import Collector
from naturhome_sync.mapping.yaml_files import read_yaml
from naturhome_sync.sfschema import load_schema
from naturhome_sync.sfschema.model import FieldDef, Schema

CONFIG_FILE = "lead_intake.yaml"
SCORING_FILE = "scoring.yaml"
COUNTRY_FIELD = "Site_Country__c"
POSTAL_CODE_FIELD = "Site_Postal_Code__c"
PROJECT_TYPE_FIELD = "Project_Type__c"
_TOP_KEYS = ("version", "mapping", "default_owner", "owner_rules", "task", "files")
_RULE_KEYS = ("name", "site_countries", "postal_codes", "project_types", "owner")
_CONDITIONS = ("site_countries", "postal_codes", "project_types")
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")
_DIGITS = re.compile(r"\d+")
#: Salesforce usernames look like e-mail addresses.
_USERNAME = re.compile(r"^[^@\s]+@[^@\s]+$")
DEFAULT_GRAPH_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class OwnerRule:
    name: str
    owner: str
    site_countries: frozenset[str] = frozenset()
    postal_codes: tuple[tuple[int, int], ...] = ()
    project_types: frozenset[str] = frozenset()

    def matches(self, opportunity: Mapping[str, Any]) -> bool:
        """Whether every condition of the rule holds for the mapped Opportunity fields."""
        if self.site_countries:
            country = str(opportunity.get(COUNTRY_FIELD) or "").strip().upper()
            if country not in self.site_countries:
                return False
        if self.postal_codes:
            digits = _DIGITS.search(str(opportunity.get(POSTAL_CODE_FIELD) or ""))
            if digits is None:
                return False
            code = int(digits.group(0))
            if not any(low <= code <= high for low, high in self.postal_codes):
                return False
        if self.project_types:
            return str(opportunity.get(PROJECT_TYPE_FIELD) or "") in self.project_types
        return True


@dataclass(frozen=True)
class IntakeConfig:
    path: Path
    mapping: str
    default_owner: str
    owner_rules: tuple[OwnerRule, ...]
    task_subject: str
    max_file_bytes: int
    graph_max_bytes: int

    def owner_for(self, opportunity: Mapping[str, Any]) -> tuple[str, str | None]:
        """(username, name of the rule that chose it; None for the default owner)."""
        rule = next((r for r in self.owner_rules if r.matches(opportunity)), None)
        return (rule.owner, rule.name) if rule else (self.default_owner, None)

    @property
    def usernames(self) -> frozenset[str]:
        return frozenset({self.default_owner, *(r.owner for r in self.owner_rules)})


@dataclass(frozen=True)
class IntakeSetup:
    """What the intake needs besides the submission, loaded and checked once."""

    config: IntakeConfig
    mapping: MappingSpec
    scoring: ScoringRules


class _Reader:
    def __init__(self, opportunity_fields: Mapping[str, FieldDef | None], problems: Collector):
        self.fields = opportunity_fields
        self.problems = problems

    def username(self, value: Any, key: str) -> str | None:
        if not isinstance(value, str) or not _USERNAME.match(value.strip()):
            self.problems.add(key, f"expected a Salesforce username (name@domain), got {value!r}")
            return None
        return value.strip()

    def picklist(self, raw: Any, key: str, field_name: str) -> frozenset[str]:
        target = self.fields.get(field_name)
        if not isinstance(raw, list) or not raw:
            self.problems.add(key, "expected a non-empty list")
            return frozenset()
        allowed = {v.value.lower(): v.value for v in target.picklist_values} if target else {}
        values: set[str] = set()
        for index, item in enumerate(raw):
            text = str(item).strip() if isinstance(item, str | int) else ""
            if not text:
                self.problems.add(f"{key}[{index}]", "expected a value")
            elif allowed and text.lower() not in allowed:
                self.problems.add(
                    f"{key}[{index}]",
                    f"{text!r} is not a value of Opportunity.{field_name} "
                    f"({', '.join(sorted(allowed.values()))})",
                )
            else:
                values.add(allowed.get(text.lower(), text))
        return frozenset(values)

    def ranges(self, raw: Any, key: str) -> tuple[tuple[int, int], ...]:
        if not isinstance(raw, list) or not raw:
            self.problems.add(key, 'expected a non-empty list of ranges ("6600-6999") or codes')
            return ()
        ranges: list[tuple[int, int]] = []
        for index, item in enumerate(raw):
            match = _RANGE.match(str(item)) if isinstance(item, str | int) else None
            if match is None:
                self.problems.add(
                    f"{key}[{index}]", f'expected "1000-1999" or "1000", got {item!r}'
                )
                continue
            low = int(match.group(1))
            high = int(match.group(2) or match.group(1))
            if low > high:
                self.problems.add(f"{key}[{index}]", f"the range starts above its end ({item})")
                continue
            ranges.append((low, high))
        return tuple(ranges)

    def rule(self, raw: Any, key: str) -> OwnerRule | None:
        if not isinstance(raw, dict):
            self.problems.add(key, "expected name:, owner: and at least one condition")
            return None
        for unknown in sorted(set(map(str, raw)) - set(_RULE_KEYS)):
            self.problems.add(f"{key}.{unknown}", f"unknown key ({', '.join(_RULE_KEYS)})")
        if not any(raw.get(condition) is not None for condition in _CONDITIONS):
            self.problems.add(key, f"a rule needs at least one of {', '.join(_CONDITIONS)}")
        owner = self.username(raw.get("owner"), f"{key}.owner")
        countries = (
            self.picklist(raw["site_countries"], f"{key}.site_countries", COUNTRY_FIELD)
            if raw.get("site_countries") is not None
            else frozenset()
        )
        codes = (
            self.ranges(raw["postal_codes"], f"{key}.postal_codes")
            if raw.get("postal_codes") is not None
            else ()
        )
        types = (
            self.picklist(raw["project_types"], f"{key}.project_types", PROJECT_TYPE_FIELD)
            if raw.get("project_types") is not None
            else frozenset()
        )
        if owner is None:
            return None
        name = str(raw.get("name") or key)
        return OwnerRule(name, owner, countries, codes, types)


def _missing_objects(spec: MappingSpec) -> list[str]:
    """The objects the intake writes that the mapping gives no rules for."""
    return [name for name in ("Account", "Contact", "Opportunity") if spec.object(name) is None]


def _positive_int(raw: Any, key: str, problems: Collector) -> int | None:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
        problems.add(key, f"expected a positive whole number of bytes, got {raw!r}")
        return None
    return raw


def _read(
    path: Path, schema: Schema, mappings: Mapping[str, MappingSpec], default_max_file_bytes: int
) -> tuple[IntakeConfig | None, list[Problem]]:
    problems = Collector(str(path))
    try:
        raw = read_yaml(path)
    except ConfigurationError as exc:
        return None, [Problem(str(path), "", str(exc).removeprefix(f"{path}: "))]
    if not isinstance(raw, dict):
        return None, [Problem(str(path), "", "expected a YAML mapping (version:, mapping:, ...)")]
    for unknown in sorted(set(map(str, raw)) - set(_TOP_KEYS)):
        problems.add(unknown, f"unknown key ({', '.join(_TOP_KEYS)})")
    if raw.get("version") != 1:
        problems.add("version", "expected version: 1")
    mapping = raw.get("mapping")
    if not isinstance(mapping, str) or mapping not in mappings:
        problems.add(
            "mapping", f"{mapping!r} is not a mapping in the mappings folder ({sorted(mappings)})"
        )
    elif missing := _missing_objects(mappings[mapping]):
        problems.add("mapping", f"{mapping!r} maps no {' or '.join(missing)}")
    opportunity = schema.object("Opportunity")
    fields = {
        name: opportunity.field(name) if opportunity else None
        for name in (COUNTRY_FIELD, POSTAL_CODE_FIELD, PROJECT_TYPE_FIELD)
    }
    reader = _Reader(fields, problems)
    default_owner = reader.username(raw.get("default_owner"), "default_owner")
    raw_rules = raw.get("owner_rules") or []
    if not isinstance(raw_rules, list):
        problems.add("owner_rules", "expected a list of rules")
        raw_rules = []
    rules = [reader.rule(item, f"owner_rules[{index}]") for index, item in enumerate(raw_rules)]
    task = raw.get("task") or {}
    subject: Any = None
    if not isinstance(task, dict):
        problems.add("task", "expected subject:")
    else:
        for unknown in sorted(set(map(str, task)) - {"subject"}):
            problems.add(f"task.{unknown}", "unknown key (subject)")
        subject = task.get("subject")
        if not isinstance(subject, str) or not subject.strip() or len(subject) > 255:
            problems.add("task.subject", "expected a subject of 1 to 255 characters")
    files = raw.get("files") or {}
    max_bytes: int | None = default_max_file_bytes
    graph_bytes: int | None = DEFAULT_GRAPH_MAX_BYTES
    if not isinstance(files, dict):
        problems.add("files", "expected max_bytes: and graph_max_bytes:")
    else:
        for unknown in sorted(set(map(str, files)) - {"max_bytes", "graph_max_bytes"}):
            problems.add(f"files.{unknown}", "unknown key (max_bytes, graph_max_bytes)")
        if "max_bytes" in files:
            max_bytes = _positive_int(files["max_bytes"], "files.max_bytes", problems)
        if "graph_max_bytes" in files:
            graph_bytes = _positive_int(files["graph_max_bytes"], "files.graph_max_bytes", problems)
    if problems.problems:
        return None, problems.problems
    assert default_owner is not None and max_bytes is not None and graph_bytes is not None
    return IntakeConfig(
        path=path,
        mapping=str(mapping),
        default_owner=default_owner,
        owner_rules=tuple(r for r in rules if r is not None),
        task_subject=str(subject).strip(),
        max_file_bytes=max_bytes,
        graph_max_bytes=graph_bytes,
    ), []


def check_intake_config(
    path: Path, schema: Schema, mappings: Mapping[str, MappingSpec], default_max_file_bytes: int
) -> list[Problem]:
    """Every problem of the file (empty when it is fine), for a ``check`` command."""
    return _read(path, schema, mappings, default_max_file_bytes)[1]


def load_intake_config(
    path: Path, schema: Schema, mappings: Mapping[str, MappingSpec], default_max_file_bytes: int
) -> IntakeConfig:
    config, problems = _read(path, schema, mappings, default_max_file_bytes)
    if problems:
        first = problems[0]
        raise ConfigurationError(first.message, source=first.file, key=first.key or None)
    assert config is not None
    return config


def load_setup(
    *,
    config_dir: Path,
    mappings_dir: Path,
    salesforce_dir: Path,
    default_max_file_bytes: int,
) -> IntakeSetup:
    """Mapping, scoring rules and intake configuration, each checked against the schema."""
    schema = load_schema(salesforce_dir)
    mappings = load_mappings(mappings_dir, schema)
    config = load_intake_config(config_dir / CONFIG_FILE, schema, mappings, default_max_file_bytes)
    scoring = load_scoring(config_dir / SCORING_FILE, schema)
    return IntakeSetup(config=config, mapping=mappings[config.mapping], scoring=scoring)
