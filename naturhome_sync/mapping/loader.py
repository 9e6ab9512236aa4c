"""Loading mapping files and checking them against the Salesforce schema.

The service calls ``load_mappings`` at start-up and refuses to start on the first problem
(a ``ConfigurationError`` naming the file and the dotted key); ``naturhome-sync mappings
check`` calls ``check_mappings`` to list every problem at once.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from naturhome_sync.errors import ConfigurationError
from naturhome_sync.mapping.model import (
    FieldRule,
    MappingSpec,
    ObjectMapping,
    Problem,
    SourceFallback,
)
from naturhome_sync.mapping.rules import Collector, parse_rule, template_references
from naturhome_sync.mapping.yaml_files import read_yaml
from naturhome_sync.sfschema.model import ObjectDef, Schema

_TOP_KEYS = ("version", "description", "source_fields", "source_fallbacks", "objects")
SUPPORTED_VERSION = 1


def _source_fields(raw: Any, problems: Collector) -> frozenset[str]:
    if not isinstance(raw, list) or not raw:
        problems.add("source_fields", "expected the list of field names the source provides")
        return frozenset()
    seen: set[str] = set()
    for index, name in enumerate(raw):
        if not isinstance(name, str) or not name.strip():
            problems.add(f"source_fields[{index}]", "expected a field name")
        elif name in seen:
            problems.add(f"source_fields[{index}]", f"{name!r} is listed twice")
        else:
            seen.add(name)
    return frozenset(seen)


def _fallbacks(raw: Any, known: frozenset[str], problems: Collector) -> tuple[SourceFallback, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add("source_fallbacks", "expected a list")
        return ()
    result: list[SourceFallback] = []
    for index, item in enumerate(raw):
        key = f"source_fallbacks[{index}]"
        if not isinstance(item, dict):
            problems.add(key, "expected when_blank:, use: and an optional note:")
            continue
        for unknown in sorted(set(map(str, item)) - {"when_blank", "use", "note"}):
            problems.add(f"{key}.{unknown}", "unknown key (when_blank, use, note)")
        when_blank = item.get("when_blank")
        use = item.get("use")
        note = item.get("note")
        before = len(problems.problems)
        if not isinstance(when_blank, list) or not when_blank:
            problems.add(f"{key}.when_blank", "expected a list of source fields")
            when_blank = []
        if not isinstance(use, dict) or not use:
            problems.add(f"{key}.use", "expected a table of field: field to take instead")
            use = {}
        for position, name in enumerate(when_blank):
            if name not in known:
                problems.add(f"{key}.when_blank[{position}]", f"unknown source field {name!r}")
        for target, other in use.items():
            if target not in known:
                problems.add(f"{key}.use.{target}", f"unknown source field {target!r}")
            if other not in known:
                problems.add(f"{key}.use.{target}", f"unknown source field {other!r}")
        if note is not None and not isinstance(note, str):
            problems.add(f"{key}.note", "expected a text")
        if len(problems.problems) == before:
            result.append(SourceFallback(tuple(when_blank), dict(use), note))
    return tuple(result)


def _object_rules(
    name: str,
    raw: Any,
    object_def: ObjectDef,
    known: frozenset[str],
    problems: Collector,
    declared: set[str],
) -> ObjectMapping:
    """The object's valid rules; ``declared`` receives every field given a rule, valid or not
    (a template referring to a broken rule is not reported a second time)."""
    key = f"objects.{name}"
    rules: list[FieldRule] = []
    if not isinstance(raw, dict) or not isinstance(raw.get("fields"), dict) or not raw["fields"]:
        problems.add(key, "expected fields: with at least one field rule")
        return ObjectMapping(object_def.name, ())
    for unknown in sorted(set(map(str, raw)) - {"fields"}):
        problems.add(f"{key}.{unknown}", "unknown key (fields)")
    seen: set[str] = set()
    for field_name, rule_raw in raw["fields"].items():
        rule_key = f"{key}.fields.{field_name}"
        target = object_def.field(str(field_name))
        if target is None:
            problems.add(rule_key, f"{object_def.name} has no field {field_name!r}")
            continue
        if target.name in seen:
            problems.add(rule_key, f"{target.name} has a rule already")
            continue
        seen.add(target.name)
        declared.add(f"{object_def.name}.{target.name}".lower())
        rule = parse_rule(
            rule_raw,
            key=rule_key,
            object_name=object_def.name,
            target=target,
            source_fields=known,
            problems=problems,
        )
        if rule is not None:
            rules.append(rule)
    for required in object_def:
        if (
            required.required
            and required.createable
            and not required.defaulted_on_create
            and required.name not in seen
        ):
            problems.add(
                f"{key}.fields",
                f"{required.name} is required by Salesforce to create a {object_def.name}: map it",
            )
    return ObjectMapping(object_def.name, tuple(rules))


def _order(
    objects: dict[str, ObjectMapping], declared: set[str], problems: Collector
) -> tuple[FieldRule, ...]:
    """Rules in file order, moved after the rules their templates refer to."""
    by_name = {
        (rule.object_name.lower(), rule.name.lower()): rule
        for mapping in objects.values()
        for rule in mapping.rules
    }
    ordered: list[FieldRule] = []
    state: dict[str, str] = {}

    def visit(rule: FieldRule, path: list[str]) -> None:
        name = rule.qualified_name
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = " -> ".join([*path[path.index(name) :], name])
            problems.add(
                f"{rule.key}.template", f"templates refer to each other in a loop: {cycle}"
            )
            return
        state[name] = "visiting"
        for object_name, field_name in template_references(rule):
            target = by_name.get((object_name.lower(), field_name.lower()))
            if target is None and f"{object_name}.{field_name}".lower() in declared:
                continue  # that rule has problems of its own, already reported
            if target is None:
                problems.add(
                    f"{rule.key}.template",
                    f"{object_name}.{field_name} has no rule in this mapping",
                )
            else:
                visit(target, [*path, name])
        state[name] = "done"
        ordered.append(rule)

    for mapping in objects.values():
        for rule in mapping.rules:
            visit(rule, [])
    return tuple(ordered)


def _with_origins(ordered: tuple[FieldRule, ...]) -> dict[str, FieldRule]:
    result: dict[str, FieldRule] = {}
    for rule in ordered:  # references come first, so their origins are known
        origins = list(rule.sources)
        if rule.template is not None:
            for placeholder in rule.template.placeholders:
                if placeholder.is_field_reference:
                    object_name, field_name = placeholder.object_and_field
                    referred = next(
                        (
                            r
                            for r in result.values()
                            if r.object_name.lower() == object_name.lower()
                            and r.name.lower() == field_name.lower()
                        ),
                        None,
                    )
                    origins.extend(referred.origins if referred else ())
                else:
                    origins.append(placeholder.name)
        for step in rule.transforms:
            if "from" in step.params:
                origins.append(str(step.params["from"]))
        result[rule.qualified_name] = replace(rule, origins=tuple(dict.fromkeys(origins)))
    return result


def _read(path: Path, schema: Schema) -> tuple[MappingSpec | None, list[Problem]]:
    problems = Collector(str(path))
    try:
        raw = read_yaml(path)
    except ConfigurationError as exc:
        return None, [Problem(str(path), "", str(exc).removeprefix(f"{path}: "))]
    if not isinstance(raw, dict):
        problems.add("", "expected a YAML mapping with source_fields: and objects:")
        return None, problems.problems
    for unknown in sorted(set(map(str, raw)) - set(_TOP_KEYS)):
        problems.add(unknown, f"unknown key (one of {', '.join(_TOP_KEYS)})")
    if raw.get("version") != SUPPORTED_VERSION:
        problems.add("version", f"expected version: {SUPPORTED_VERSION}")
    description = raw.get("description", "")
    if not isinstance(description, str):
        problems.add("description", "expected a text")
        description = ""
    known = _source_fields(raw.get("source_fields"), problems)
    fallbacks = _fallbacks(raw.get("source_fallbacks"), known, problems)
    objects: dict[str, ObjectMapping] = {}
    declared: set[str] = set()
    raw_objects = raw.get("objects")
    if not isinstance(raw_objects, dict) or not raw_objects:
        problems.add("objects", "expected at least one Salesforce object")
        raw_objects = {}
    for object_name, object_raw in raw_objects.items():
        object_def = schema.object(str(object_name))
        if object_def is None:
            problems.add(f"objects.{object_name}", f"unknown Salesforce object {object_name!r}")
            continue
        if not object_def.createable:
            problems.add(f"objects.{object_name}", f"{object_def.name} cannot be created")
            continue
        if object_def.name in objects:
            problems.add(f"objects.{object_name}", f"{object_def.name} is mapped twice")
            continue
        objects[object_def.name] = _object_rules(
            str(object_name), object_raw, object_def, known, problems, declared
        )
    ordered = _order(objects, declared, problems)
    if problems.problems:
        return None, problems.problems
    rules = _with_origins(ordered)
    final_objects = {
        name: ObjectMapping(name, tuple(rules[r.qualified_name] for r in mapping.rules))
        for name, mapping in objects.items()
    }
    spec = MappingSpec(
        name=path.stem,
        path=path,
        description=description,
        source_fields=known,
        fallbacks=fallbacks,
        objects=final_objects,
        evaluation_order=tuple(rules[r.qualified_name] for r in ordered),
    )
    return spec, []


def _raise_first(problems: list[Problem]) -> None:
    first = problems[0]
    raise ConfigurationError(first.message, source=first.file, key=first.key or None)


def load_mapping(path: Path, schema: Schema) -> MappingSpec:
    """The checked mapping in ``path``; ``ConfigurationError`` on its first problem."""
    spec, problems = _read(path, schema)
    if problems:
        _raise_first(problems)
    assert spec is not None
    return spec


def _mapping_files(mappings_dir: Path) -> list[Path]:
    if not mappings_dir.is_dir():
        raise ConfigurationError("the mappings folder does not exist", source=str(mappings_dir))
    return sorted(mappings_dir.glob("*.yaml"))


def load_mappings(mappings_dir: Path, schema: Schema) -> dict[str, MappingSpec]:
    """Every ``*.yaml`` mapping in the folder, by file stem; refuses on the first problem."""
    return {path.stem: load_mapping(path, schema) for path in _mapping_files(mappings_dir)}


def check_mapping_file(path: Path, schema: Schema) -> list[Problem]:
    return _read(path, schema)[1]


def check_mappings(mappings_dir: Path, schema: Schema) -> list[Problem]:
    """Every problem of every mapping in the folder (empty: all mappings are fine)."""
    try:
        files = _mapping_files(mappings_dir)
    except ConfigurationError:
        return [Problem(str(mappings_dir), "", "the mappings folder does not exist")]
    return [problem for path in files for problem in check_mapping_file(path, schema)]
