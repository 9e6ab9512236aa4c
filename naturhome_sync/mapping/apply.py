"""Applying a checked mapping to one submission.

Pure and deterministic: the same submission gives the same records and warnings on every
replay (dates are computed from the submission's own ``submitted_at``, never the clock).
Data the public got wrong becomes a warning and a blank field; only a required value that
is missing or unusable stops the submission, with a ``PermanentDataError`` naming the form
field, because no record can be written without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from naturhome_sync.errors import PermanentDataError
from naturhome_sync.mapping.common import Rejected, fold, is_blank, quote, strip_spaces
from naturhome_sync.mapping.model import FieldRule, MappedRecords, MappingSpec, MappingWarning
from naturhome_sync.mapping.templates import Placeholder
from naturhome_sync.mapping.transforms import TEMPLATE_FILTERS, StepContext
from naturhome_sync.sfschema.model import FieldDef


def _clean_source(source: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: strip_spaces(value) if isinstance(value, str) else value
        for key, value in source.items()
    }


def _apply_fallbacks(
    spec: MappingSpec, view: dict[str, Any], warnings: list[MappingWarning]
) -> None:
    for fallback in spec.fallbacks:
        if not all(is_blank(view.get(name)) for name in fallback.when_blank):
            continue
        taken = {target: view.get(other) for target, other in fallback.use.items()}
        if all(is_blank(value) for value in taken.values()):
            continue
        view.update(taken)
        if fallback.note:
            warnings.append(
                MappingWarning(None, None, ", ".join(fallback.when_blank), fallback.note)
            )


def _label(target: FieldDef, value: str) -> str:
    entry = next((v for v in target.picklist_values if v.value == value), None)
    return entry.label if entry else value


def _match(rule: FieldRule, value: str) -> str | None:
    folded = fold(value)
    if folded in rule.values:
        return rule.values[folded]
    for entry in rule.field.picklist_values:
        if entry.active and folded in (fold(entry.value), fold(entry.label)):
            return entry.value
    return None


#: Salesforce receives numbers as JSON doubles: beyond 15 significant digits a value no longer
#: travels exactly (99 999 999 999 999,99 would arrive as ...,98), so it is not sent at all.
MAX_SIGNIFICANT_DIGITS = 15


def _fit_number(target: FieldDef, number: Decimal, warn: Callable[[str], None]) -> Any:
    """Rounded half-up to the field's scale; None (with a warning) when too large for it or
    too precise to reach Salesforce exactly."""
    shown = quote(format(number, "f"))
    rounded = number
    if target.precision is not None and target.scale is not None:
        room = target.precision - target.scale
        if number.adjusted() + 1 > room:  # checked first: rounding a huge number would overflow
            warn(f"nombre trop grand {shown} ignoré")
            return None
        rounded = number.quantize(Decimal(1).scaleb(-target.scale), rounding=ROUND_HALF_UP)
        if rounded.adjusted() + 1 > room:  # 999999.995 rounds to 1000000.00
            warn(f"nombre trop grand {shown} ignoré")
            return None
    if len(rounded.normalize().as_tuple().digits) > MAX_SIGNIFICANT_DIGITS:
        warn(f"nombre trop précis {shown} ignoré ({MAX_SIGNIFICANT_DIGITS} chiffres au plus)")
        return None
    return rounded


def _fit(rule: FieldRule, value: Any, typed: Any, warn: Callable[[str], None]) -> Any:
    """The value as the field can hold it, or None (with a warning) when it cannot.

    ``typed`` is what the source held, quoted in a warning when the transforms changed it
    (the rep recognises "Pays-Bas" better than "NL").
    """
    target = rule.field
    if is_blank(value):
        return None
    if rule.kind == "decimal":
        return _fit_number(target, Decimal(value), warn)
    if rule.kind != "text":
        return value
    text = str(value)
    picklist = target.type == "Picklist"
    if rule.values or picklist:
        matched = _match(rule, text)
        unknown = f"valeur inconnue {quote(text)}"
        if isinstance(typed, str) and typed != text:
            unknown += f" (saisie : {quote(typed)})"
        if matched is not None:
            text = matched
        elif rule.default is not None:
            warn(f"{unknown} remplacée par {quote(_label(target, rule.default))}")
            return rule.default
        elif picklist and (target.restricted or rule.values):
            warn(f"{unknown} ignorée")
            return None
    limit = target.max_length
    if limit is not None and len(text) > limit:
        warn(f"texte trop long ({len(text)} caractères pour {limit} au plus) ignoré")
        return None
    return text


def _filtered(value: Any, placeholder: Placeholder, ctx: StepContext) -> Any:
    for name in placeholder.filters:
        if is_blank(value):
            return None
        value = TEMPLATE_FILTERS[name].build({})(value, ctx)
    return value


def _evaluate(
    rule: FieldRule,
    view: Mapping[str, Any],
    values: Mapping[str, Any],
    warnings: list[MappingWarning],
) -> Any:
    used = ", ".join(rule.origins) or None
    value: Any = None
    if rule.constant is not None:
        value = rule.constant
    elif rule.sources:
        used = next((s for s in rule.sources if not is_blank(view.get(s))), rule.sources[0])
        value = view.get(used)
    typed = value

    def warn(message: str) -> None:
        warnings.append(
            MappingWarning(rule.object_name, rule.name, used, message, rule.field.label)
        )

    ctx = StepContext(source=view, field=rule.field, warn=warn)
    if rule.template is not None:

        def resolve(placeholder: Placeholder) -> Any:
            if placeholder.is_field_reference:
                raw = values.get(placeholder.name.lower())
            else:
                raw = view.get(placeholder.name)
            return _filtered(raw, placeholder, ctx)

        value = rule.template.render(resolve)
    for step in rule.transforms:
        if is_blank(value) and not step.runs_on_blank:
            continue
        try:
            value = step.run(value, ctx)
        except Rejected as exc:
            warn(exc.reason)
            value = None
    value = _fit(rule, value, typed, warn)
    if value is None and rule.if_blank is not None:
        value = rule.if_blank
    return value


def _missing_error(
    missing: list[FieldRule], warnings: list[MappingWarning], external_id: str | None
) -> PermanentDataError:
    parts: list[str] = []
    for rule in missing:
        names = ", ".join(quote(origin) for origin in rule.origins) or rule.qualified_name
        reasons = [
            w.message for w in warnings if (w.object, w.field) == (rule.object_name, rule.name)
        ]
        why = f" : {'; '.join(reasons)}" if reasons else ""
        parts.append(f"{names} pour {rule.qualified_name}{why}")
    return PermanentDataError(
        "Demande incomplète, champ obligatoire vide ou invalide : " + " ; ".join(parts),
        code="MAPPING_REQUIRED_FIELD",
        external_id=external_id,
        details={
            "fields": [rule.qualified_name for rule in missing],
            "source_fields": sorted({o for rule in missing for o in rule.origins}),
        },
    )


def apply_mapping(
    spec: MappingSpec, source: Mapping[str, Any], *, external_id_field: str | None = None
) -> MappedRecords:
    """Records for every object of the mapping, from one source record.

    ``source`` holds the form values and the flow's metadata keys (``conversion_id``,
    ``submitted_at``...). Raises ``PermanentDataError`` (``code="MAPPING_REQUIRED_FIELD"``)
    when a required field stays blank; its ``external_id`` is ``source[external_id_field]``
    (e.g. ``"conversion_id"``) so the Integration_Error__c mirror points at the submission.
    """
    warnings: list[MappingWarning] = []
    view = _clean_source(source)
    _apply_fallbacks(spec, view, warnings)
    values: dict[str, Any] = {}
    missing: list[FieldRule] = []
    for rule in spec.evaluation_order:
        value = _evaluate(rule, view, values, warnings)
        values[rule.qualified_name.lower()] = value
        if value is None and (rule.required or rule.field.required):
            missing.append(rule)
    if missing:
        external_id = view.get(external_id_field) if external_id_field else None
        raise _missing_error(missing, warnings, None if is_blank(external_id) else str(external_id))
    records = {
        name: {
            rule.name: values[rule.qualified_name.lower()]
            for rule in mapping.rules
            if values[rule.qualified_name.lower()] is not None
        }
        for name, mapping in spec.objects.items()
    }
    return MappedRecords(records=records, warnings=warnings)
