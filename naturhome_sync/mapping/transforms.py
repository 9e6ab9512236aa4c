"""The transforms a mapping file may name, with what they accept and produce.

A transform is a small pure function ``value -> value`` (see ``text``, ``numbers``,
``dates``, ``countries``, ``phones``). This registry adds what the loader needs to refuse a
mapping before any submission arrives: the kind of value each transform reads and writes,
the Salesforce field types it may feed, and its parameters. ``build`` binds the parameters
and returns a ``Step`` the engine runs with a ``StepContext`` (the submission and the field).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from naturhome_sync.mapping import countries, dates, numbers, phones, text
from naturhome_sync.mapping.common import Rejected, is_blank, quote
from naturhome_sync.sfschema.model import NUMERIC_TYPES, TEXT_TYPES, FieldDef

#: What flows between transforms: text as typed, a Decimal, or a date.
Kind = Literal["text", "decimal", "date"]

#: Salesforce field types the engine writes, by the kind of value they take.
FIELD_KINDS: Mapping[str, Kind] = {
    **dict.fromkeys(TEXT_TYPES - {"AutoNumber"}, "text"),
    "Picklist": "text",
    "Lookup": "text",
    **dict.fromkeys(NUMERIC_TYPES, "decimal"),
    "Date": "date",
}
_TEXTUAL = frozenset(t for t, k in FIELD_KINDS.items() if k == "text")
_NUMERIC = frozenset(NUMERIC_TYPES)


@dataclass(frozen=True)
class StepContext:
    """What a step may look at besides its input: the submission (for parameters such as
    ``default_region_from``), the target field, and a way to record a warning while still
    returning a value (``truncate_to_field`` does)."""

    source: Mapping[str, Any]
    field: FieldDef
    warn: Callable[[str], None]


Step = Callable[[Any, StepContext], Any]
#: Checks one parameter value; returns an error message, or None when it is fine.
ParamCheck = Callable[[Any], str | None]


@dataclass(frozen=True)
class Param:
    check: ParamCheck
    required: bool = False
    #: The value names a source field (checked against the mapping's ``source_fields``).
    source_field: bool = False


@dataclass(frozen=True)
class TransformSpec:
    name: str
    accepts: frozenset[Kind]
    #: Kind produced; None means "the kind it was given".
    produces: Kind | None
    field_types: frozenset[str]
    build: Callable[[Mapping[str, Any]], Step]
    params: Mapping[str, Param] = field(default_factory=dict)
    #: Runs even when the value is blank (it supplies a value rather than cleaning one).
    runs_on_blank: bool = False


def _is_region(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 2 and value.isalpha() and value.isupper():
        return None
    return "expected a two-letter upper-case ISO country code such as BE"


def _is_region_list(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "expected a list of ISO country codes such as [BE, LU]"
    return next((msg for item in value if (msg := _is_region(item))), None)


def _is_text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "expected a non-empty text"


def _is_int(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool)
    return None if ok else "expected a whole number"


def _is_timezone(value: Any) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r}"
    return None


def _one_of(*choices: str) -> ParamCheck:
    return lambda value: None if value in choices else f"expected one of {', '.join(choices)}"


def _plain(function: Callable[[str], Any]) -> Callable[[Mapping[str, Any]], Step]:
    """A transform without parameters that reads text."""
    return lambda _params: lambda value, _ctx: function(str(value))


def _build_phone(params: Mapping[str, Any]) -> Step:
    region_from = params.get("default_region_from")
    default = params.get("default_region", "BE")
    fallbacks = list(params.get("fallback_regions", []))

    def step(value: Any, ctx: StepContext) -> str:
        regions: list[str] = []
        if region_from and not is_blank(ctx.source.get(region_from)):
            # An unknown country gets its own warning on the country field; the number is
            # then read in the default regions.
            with contextlib.suppress(Rejected):
                regions.append(countries.country_code(str(ctx.source[region_from])))
        for region in (default, *fallbacks):
            if region not in regions:
                regions.append(region)
        return phones.phone_e164(str(value), regions=regions)

    return step


def _build_country(params: Mapping[str, Any]) -> Step:
    keep_unknown = params.get("unknown", "drop") == "keep"

    def step(value: Any, _ctx: StepContext) -> str:
        try:
            return countries.country_code(str(value))
        except Rejected:
            if keep_unknown:
                return text.collapse_spaces(str(value))
            raise

    return step


def _build_date(params: Mapping[str, Any]) -> Step:
    timezone = params.get("timezone", "UTC")
    return lambda value, _ctx: dates.parse_date(value, timezone=timezone)


def _truncate(value: Any, ctx: StepContext) -> str:
    limit = ctx.field.max_length
    content = str(value)
    if limit is not None and len(content) > limit:
        ctx.warn(f"texte coupé à {limit} caractères (il en comptait {len(content)})")
        return content[: limit - 1].rstrip() + "…"
    return content


def _build_date_offset(params: Mapping[str, Any]) -> Step:
    base_field: str = params["from"]
    days: int = params["days"]
    timezone: str = params.get("timezone", "Europe/Brussels")

    def step(value: Any, ctx: StepContext) -> Any:
        if not is_blank(value):
            return value
        base = ctx.source.get(base_field)
        if is_blank(base):
            raise Rejected(f"date de référence {quote(base_field)} absente")
        return dates.add_days(dates.submission_date(base, timezone), days)

    return step


def _money(value: Any, _ctx: StepContext) -> Decimal:
    return numbers.money(str(value))


_TEXT: frozenset[Kind] = frozenset({"text"})
_DATE: frozenset[Kind] = frozenset({"date"})


def _text_to_text(name: str, function: Callable[[str], Any]) -> TransformSpec:
    return TransformSpec(name, _TEXT, None, _TEXTUAL, _plain(function))


_SPECS: tuple[TransformSpec, ...] = (
    _text_to_text("trim", text.trim),
    _text_to_text("collapse_spaces", text.collapse_spaces),
    _text_to_text("lower", text.lower),
    _text_to_text("upper", text.upper),
    _text_to_text("title", text.title),
    TransformSpec("email", _TEXT, "text", frozenset({"Email", "Text"}), _plain(text.email)),
    TransformSpec(
        "phone_e164",
        accepts=_TEXT,
        produces="text",
        field_types=frozenset({"Phone", "Text"}),
        build=_build_phone,
        params={
            "default_region": Param(_is_region),
            "default_region_from": Param(_is_text, source_field=True),
            "fallback_regions": Param(_is_region_list),
        },
    ),
    TransformSpec(
        "country_code",
        accepts=_TEXT,
        produces="text",
        field_types=frozenset({"Picklist", "Text"}),
        build=_build_country,
        params={"unknown": Param(_one_of("drop", "keep"))},
    ),
    TransformSpec("money", _TEXT, "decimal", frozenset({"Currency", "Number"}), lambda _: _money),
    TransformSpec("number", _TEXT, "decimal", _NUMERIC, _plain(numbers.number)),
    TransformSpec("integer", _TEXT, "decimal", _NUMERIC, _plain(numbers.integer)),
    TransformSpec(
        "date",
        accepts=_TEXT,
        produces="date",
        field_types=frozenset({"Date"}),
        build=_build_date,
        params={"timezone": Param(_is_timezone)},
    ),
    TransformSpec("truncate_to_field", _TEXT, None, _TEXTUAL, lambda _: _truncate),
    TransformSpec(
        "default_date_offset",
        accepts=_DATE,
        produces="date",
        field_types=frozenset({"Date"}),
        build=_build_date_offset,
        params={
            "from": Param(_is_text, required=True, source_field=True),
            "days": Param(_is_int, required=True),
            "timezone": Param(_is_timezone),
        },
        runs_on_blank=True,
    ),
)

TRANSFORMS: Mapping[str, TransformSpec] = {spec.name: spec for spec in _SPECS}
#: Transforms usable as template filters (``{lastname|title}``): text in, text out, no parameters.
TEMPLATE_FILTERS: Mapping[str, TransformSpec] = {
    name: spec
    for name, spec in TRANSFORMS.items()
    if spec.accepts == _TEXT
    and spec.produces is None
    and not spec.params
    and name != "truncate_to_field"
}
