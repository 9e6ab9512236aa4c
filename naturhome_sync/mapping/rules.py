"""Parsing and checking one field rule of a mapping file against the schema.

Every problem is reported with the dotted key of the offending entry, e.g.
``objects.Opportunity.fields.Project_Type__c.values.Nouvelle construction``; the loader
collects them all (``mappings check`` shows every one, start-up refuses on the first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from naturhome_sync.mapping.common import fold
from naturhome_sync.mapping.model import (
    DEFAULT_ON_EXISTING,
    ON_EXISTING_CHOICES,
    FieldRule,
    OnExisting,
    Problem,
    TransformStep,
)
from naturhome_sync.mapping.templates import Template, TemplateSyntaxError, parse_template
from naturhome_sync.mapping.transforms import FIELD_KINDS, TEMPLATE_FILTERS, TRANSFORMS, Kind
from naturhome_sync.sfschema.model import FieldDef

RULE_KEYS = frozenset(
    {"from", "value", "template", "transforms", "values", "default", "if_blank", "required"}
    | {"on_existing"}
)
_NEEDS = {"decimal": "money, number or integer", "date": "date"}
_WORDS = {"text": "text", "decimal": "number", "date": "date"}


@dataclass
class Collector:
    """Problems found so far in one file."""

    file: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, key, message))


def check_constant(
    value: Any, target: FieldDef, kind: Kind, key: str, problems: Collector
) -> Any | None:
    """``value`` as the field takes it (str, Decimal or date), or None after a problem."""
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            problems.add(key, f"{target.name} is a {target.type} field: expected a number")
            return None
        try:
            return Decimal(str(value))
        except InvalidOperation:
            problems.add(key, f"{value!r} is not a number ({target.name} is a {target.type})")
            return None
    if kind == "date":
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            problems.add(key, f"{value!r} is not a YYYY-MM-DD date ({target.name} is a Date)")
            return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        problems.add(key, f"{target.name} is a {target.type} field: expected a text")
        return None
    text = str(value)
    if target.type == "Picklist" and target.restricted and text not in target.picklist_value_set:
        allowed = ", ".join(v.value for v in target.picklist_values if v.active)
        problems.add(
            key, f"{text!r} is not allowed by the restricted picklist {target.name} ({allowed})"
        )
        return None
    limit = target.max_length
    if limit is not None and len(text) > limit:
        problems.add(key, f"{len(text)} characters, more than the {limit} {target.name} holds")
        return None
    return text


def _sources(raw: Any, key: str, known: frozenset[str], problems: Collector) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        problems.add(key, "expected a source field name or a list of them")
    result: list[str] = []
    for index, item in enumerate(items):
        item_key = f"{key}[{index}]" if isinstance(raw, list) else key
        if not isinstance(item, str) or not item:
            problems.add(item_key, "expected a source field name")
        elif item not in known:
            problems.add(item_key, f"unknown source field {item!r} (not in source_fields)")
        else:
            result.append(item)
    return tuple(result)


def _template(raw: Any, key: str, known: frozenset[str], problems: Collector) -> Template | None:
    if not isinstance(raw, str):
        problems.add(key, "expected a text with {placeholders}")
        return None
    try:
        template = parse_template(raw)
    except TemplateSyntaxError as exc:
        problems.add(key, f"invalid template: {exc}")
        return None
    for placeholder in template.placeholders:
        if not placeholder.is_field_reference and placeholder.name not in known:
            problems.add(key, f"unknown source field {placeholder.name!r} in the template")
        for name in placeholder.filters:
            if name not in TEMPLATE_FILTERS:
                problems.add(
                    key,
                    f"unknown template filter {name!r} (one of {', '.join(TEMPLATE_FILTERS)})",
                )
    return template


def _transforms(
    raw: Any,
    key: str,
    target: FieldDef,
    start: Kind | None,
    known: frozenset[str],
    problems: Collector,
) -> tuple[tuple[TransformStep, ...], Kind | None]:
    """The built steps and the kind of value the chain ends with."""
    if not isinstance(raw, list):
        problems.add(key, "expected a list of transforms")
        return (), start
    steps: list[TransformStep] = []
    current = start
    for index, item in enumerate(raw):
        item_key = f"{key}[{index}]"
        params: Any
        if isinstance(item, str):
            name, params = item, {}
        elif isinstance(item, dict) and len(item) == 1:
            name, params = next(iter(item.items()))
            params = {} if params is None else params
        else:
            problems.add(item_key, "expected a transform name, or {name: {parameters}}")
            continue
        spec = TRANSFORMS.get(str(name))
        if spec is None:
            problems.add(item_key, f"unknown transform {name!r} (one of {', '.join(TRANSFORMS)})")
            current = None  # what follows cannot be checked without knowing what it produced
            continue
        if target.type not in spec.field_types:
            allowed = ", ".join(sorted(spec.field_types))
            problems.add(
                item_key,
                f"{name} cannot write into {target.name}, a {target.type} field "
                f"(it writes into {allowed} fields)",
            )
        if current is not None and current not in spec.accepts:
            reads = " or ".join(sorted(_WORDS[kind] for kind in spec.accepts))
            problems.add(item_key, f"{name} reads a {reads}, not a {_WORDS[current]}")
        if not isinstance(params, dict):
            problems.add(item_key, f"the parameters of {name} must be a mapping")
            continue
        ok = True
        for param_name, value in params.items():
            param = spec.params.get(str(param_name))
            param_key = f"{item_key}.{name}.{param_name}"
            if param is None:
                choices = ", ".join(spec.params) or "none"
                problems.add(param_key, f"{name} has no parameter {param_name!r} ({choices})")
                ok = False
            elif message := param.check(value):
                problems.add(param_key, message)
                ok = False
            elif param.source_field and value not in known:
                problems.add(param_key, f"unknown source field {value!r} (not in source_fields)")
                ok = False
        for param_name, param in spec.params.items():
            if param.required and param_name not in params:
                problems.add(f"{item_key}.{name}", f"{name} needs the parameter {param_name!r}")
                ok = False
        if ok:
            steps.append(TransformStep(spec.name, params, spec.build(params), spec.runs_on_blank))
        current = spec.produces or current
    return tuple(steps), current


def _values_table(raw: Any, key: str, target: FieldDef, problems: Collector) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        problems.add(key, "expected a table of input: picklist value")
        return {}
    if target.type not in ("Picklist", "Text"):
        problems.add(key, f"a value table needs a Picklist or Text field, not {target.type}")
        return {}
    table: dict[str, str] = {}
    for typed, result in raw.items():
        entry_key = f"{key}.{typed}"
        if not isinstance(typed, str | int) or isinstance(typed, bool):
            problems.add(entry_key, "the input must be a text (quote it)")
            continue
        checked = check_constant(result, target, "text", entry_key, problems)
        if checked is None:
            continue
        folded = fold(str(typed))
        if folded in table and table[folded] != checked:
            problems.add(
                entry_key,
                f"reads the same as another entry (case and accents aside) but gives "
                f"{checked!r} instead of {table[folded]!r}",
            )
            continue
        table[folded] = checked
    return table


def parse_rule(
    raw: Any,
    *,
    key: str,
    object_name: str,
    target: FieldDef,
    source_fields: frozenset[str],
    problems: Collector,
) -> FieldRule | None:
    """The rule for ``target``, or None when it has problems (all of them recorded)."""
    before = len(problems.problems)
    if not isinstance(raw, dict):
        problems.add(key, "expected a mapping with from:, value: or template:")
        return None
    for unknown in sorted(set(map(str, raw)) - RULE_KEYS):
        problems.add(f"{key}.{unknown}", f"unknown key (one of {', '.join(sorted(RULE_KEYS))})")
    kind = FIELD_KINDS.get(target.type)
    if kind is None or not target.createable:
        reason = (
            "is not writable"
            if not target.createable
            else f"is a {target.type} field, which mappings do not write"
        )
        problems.add(key, f"{object_name}.{target.name} {reason}")
        return None

    given = [name for name in ("from", "value", "template") if name in raw]
    if len(given) > 1:
        problems.add(key, f"give only one of from:, value:, template: (found {', '.join(given)})")
    sources: tuple[str, ...] = ()
    template = None
    constant = None
    start: Kind | None = None
    if "from" in raw:
        sources = _sources(raw["from"], f"{key}.from", source_fields, problems)
        start = "text"
    elif "template" in raw:
        template = _template(raw["template"], f"{key}.template", source_fields, problems)
        start = "text"
    elif "value" in raw:
        constant = check_constant(raw["value"], target, kind, f"{key}.value", problems)
        if "transforms" in raw or "values" in raw:
            problems.add(key, "a constant value: is written as it is: no transforms or values")

    steps: tuple[TransformStep, ...] = ()
    end = start
    if "transforms" in raw:
        known_problems = len(problems.problems)
        steps, end = _transforms(
            raw["transforms"], f"{key}.transforms", target, start, source_fields, problems
        )
        if len(problems.problems) > known_problems:
            end = None  # the chain is wrong already; its end says nothing more
    if not given and not any(step.runs_on_blank for step in steps):
        problems.add(key, "needs from:, value: or template: (or a transform that supplies a value)")
    if "value" not in raw and end is not None and end != kind:
        hint = f": add a {_NEEDS[kind]} transform" if kind in _NEEDS else ""
        problems.add(
            key,
            f"{target.name} is a {target.type} field but the rule produces a {_WORDS[end]}{hint}",
        )

    values = (
        _values_table(raw["values"], f"{key}.values", target, problems) if "values" in raw else {}
    )
    extras: dict[str, Any] = {}
    for name in ("default", "if_blank"):
        if name in raw:
            extras[name] = check_constant(raw[name], target, kind, f"{key}.{name}", problems)
    required = raw.get("required", False)
    if not isinstance(required, bool):
        problems.add(f"{key}.required", "expected true or false")
    on_existing = raw.get("on_existing", DEFAULT_ON_EXISTING)
    if on_existing not in ON_EXISTING_CHOICES:
        problems.add(f"{key}.on_existing", f"expected one of {', '.join(ON_EXISTING_CHOICES)}")

    if len(problems.problems) > before:
        return None
    chosen: OnExisting = on_existing
    return FieldRule(
        object_name=object_name,
        field=target,
        key=key,
        kind=kind,
        sources=sources,
        constant=constant,
        template=template,
        transforms=steps,
        values=values,
        default=extras.get("default"),
        if_blank=extras.get("if_blank"),
        required=bool(required),
        on_existing=chosen,
    )


def template_references(rule: FieldRule) -> list[tuple[str, str]]:
    """(object, field) pairs the rule's template refers to."""
    if rule.template is None:
        return []
    return [p.object_and_field for p in rule.template.placeholders if p.is_field_reference]
