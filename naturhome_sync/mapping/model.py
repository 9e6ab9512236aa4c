"""A mapping file once loaded and checked against the Salesforce schema.

Everything here was validated by the loader: every field exists and is writable, every
transform fits its field, every constant and value-table result is a value the org accepts.
Applying a ``MappingSpec`` can therefore only meet problems in the *data* (warnings, or a
``PermanentDataError`` for a missing required value), never in the configuration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from naturhome_sync.mapping.templates import Template
from naturhome_sync.mapping.transforms import Kind, Step
from naturhome_sync.sfschema.model import FieldDef

#: What to do when the Salesforce record already holds a value for the field.
OnExisting = Literal["salesforce_wins_unless_blank", "source_wins", "salesforce_wins"]
ON_EXISTING_CHOICES: tuple[OnExisting, ...] = (
    "salesforce_wins_unless_blank",
    "source_wins",
    "salesforce_wins",
)
DEFAULT_ON_EXISTING: OnExisting = "salesforce_wins_unless_blank"


@dataclass(frozen=True)
class TransformStep:
    name: str
    params: Mapping[str, Any]
    run: Step
    runs_on_blank: bool = False


@dataclass(frozen=True)
class FieldRule:
    """How one Salesforce field gets its value. Exactly one of ``sources`` / ``constant`` /
    ``template`` is set, except for a rule whose only job is a transform that supplies a value
    (``default_date_offset``)."""

    object_name: str
    field: FieldDef
    #: Dotted key of the rule in its file, for messages.
    key: str
    kind: Kind
    sources: tuple[str, ...] = ()
    constant: Any = None
    template: Template | None = None
    transforms: tuple[TransformStep, ...] = ()
    #: Folded input -> picklist value (``values:``).
    values: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: Used for a value the table / picklist does not know (with a warning).
    default: Any = None
    #: Used when the result is blank (no warning).
    if_blank: Any = None
    required: bool = False
    on_existing: OnExisting = DEFAULT_ON_EXISTING
    #: Source fields this rule ultimately reads (through templates and references too).
    origins: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def qualified_name(self) -> str:
        return f"{self.object_name}.{self.field.name}"


@dataclass(frozen=True)
class ObjectMapping:
    name: str
    #: In file order.
    rules: tuple[FieldRule, ...]

    def rule(self, field_name: str) -> FieldRule | None:
        lowered = field_name.lower()
        return next((r for r in self.rules if r.name.lower() == lowered), None)


@dataclass(frozen=True)
class SourceFallback:
    """When every field of ``when_blank`` is blank, take ``use`` (target -> other source field)
    instead: the building site is at the home address when the site address is left empty."""

    when_blank: tuple[str, ...]
    use: Mapping[str, str]
    note: str | None = None


@dataclass(frozen=True)
class MappingSpec:
    """One mapping file (named after it: ``hubspot_quote_request``)."""

    name: str
    path: Path
    description: str
    source_fields: frozenset[str]
    fallbacks: tuple[SourceFallback, ...]
    objects: Mapping[str, ObjectMapping]
    #: Every rule, ordered so that a rule comes after the rules its template refers to.
    evaluation_order: tuple[FieldRule, ...]

    def object(self, name: str) -> ObjectMapping | None:
        lowered = name.lower()
        return next((o for k, o in self.objects.items() if k.lower() == lowered), None)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a mapping (or scoring) file, for ``mappings check``."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.file, self.key) if part)
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class MappingWarning:
    """Something in the submission that could not be used as typed. ``message`` is French:
    the flow copies these into Opportunity.Intake_Warnings__c for the sales rep."""

    object: str | None
    field: str | None
    source_field: str | None
    message: str
    field_label: str | None = None

    def line(self) -> str:
        """One readable line: ``Budget (budget) : montant illisible « beaucoup » : …``.

        A warning about the submission as a whole (a source fallback) is its message alone.
        """
        label = self.field_label or self.field
        if not label:
            return self.message
        return (
            f"{label} ({self.source_field}) : {self.message}"
            if self.source_field
            else (f"{label} : {self.message}")
        )


@dataclass(frozen=True)
class MappedRecords:
    """Result of applying a mapping: object -> field -> value, blanks left out.

    Values are ``str``, ``Decimal`` (money, numbers) or ``datetime.date``.
    """

    records: dict[str, dict[str, Any]]
    warnings: list[MappingWarning]

    def warning_text(self) -> str:
        return format_warnings(self.warnings)


def format_warnings(warnings: list[MappingWarning]) -> str:
    """One line per warning, as written to Intake_Warnings__c."""
    return "\n".join(w.line() for w in warnings)
