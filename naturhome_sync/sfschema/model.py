"""Typed picture of the Salesforce schema the service relies on.

One model serves three readers: the Salesforce emulator (which validates writes and
generates describe from it), the mapping checks (which refuse a mapping that names an
unknown field or a picklist value the org does not allow) and ``doctor`` (which compares
a real org's describe with it). Field types use the Metadata API names (``Text``,
``Currency``, ``MasterDetail``...) so the model reads like the SFDX files it comes from;
``describe_type`` gives the REST describe name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

#: Metadata type -> REST describe ``type``.
DESCRIBE_TYPES: Mapping[str, str] = {
    "Id": "id",
    "Text": "string",
    "AutoNumber": "string",
    "Email": "email",
    "Phone": "phone",
    "Url": "url",
    "TextArea": "textarea",
    "LongTextArea": "textarea",
    "Html": "textarea",
    "Number": "double",
    "Int": "int",
    "Currency": "currency",
    "Percent": "percent",
    "Checkbox": "boolean",
    "Date": "date",
    "DateTime": "datetime",
    "Time": "time",
    "Picklist": "picklist",
    "MultiselectPicklist": "multipicklist",
    "Lookup": "reference",
    "MasterDetail": "reference",
    "Base64": "base64",
    "Combobox": "combobox",
}

#: Metadata types whose values are numbers in JSON.
NUMERIC_TYPES = frozenset({"Number", "Int", "Currency", "Percent"})
#: Metadata types whose values are strings of text in JSON.
TEXT_TYPES = frozenset(
    {"Text", "AutoNumber", "Email", "Phone", "Url", "TextArea", "LongTextArea", "Html"}
)
REFERENCE_TYPES = frozenset({"Lookup", "MasterDetail", "Id"})


@dataclass(frozen=True)
class PicklistValue:
    """One picklist entry. ``closed``/``won``/``probability`` only mean something for
    Opportunity stages (the OpportunityStage value set), where they drive IsClosed, IsWon
    and the default Probability."""

    value: str
    label: str
    default: bool = False
    active: bool = True
    closed: bool = False
    won: bool = False
    probability: int | None = None


@dataclass(frozen=True)
class FieldDef:
    """One field of one object, standard or custom.

    ``createable``/``updateable`` are False for system fields (Id, CreatedDate...),
    auto-numbers and formulas. ``required`` means required on create (describe:
    ``nillable`` False and not defaulted). MasterDetail fields are always required.
    ``max_length`` is the effective text limit (255 for TextArea, ``length`` otherwise).
    ``defaulted_on_create`` means the org fills the field when a create leaves it out (system
    fields, OwnerId, Task.Status, checkboxes); ``never_null`` marks the standard fields the
    org keeps filled even though a create may omit them (describe ``nillable: false``).

    For reference fields, ``relationship_name`` is the parent path used in SOQL and in
    describe (``Opportunity__r`` for a custom lookup, ``Account`` for ``AccountId``) and
    ``child_relationship_name`` the name the parent gives its children in sub-queries
    (``Payment_Tranches__r``, ``Contacts``). The SFDX ``<relationshipName>`` of a custom field
    is the latter without ``__r``.
    """

    name: str
    label: str
    type: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    required: bool = False
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False
    default_value: str | None = None
    picklist_values: tuple[PicklistValue, ...] = ()
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    child_relationship_name: str | None = None
    relationship_label: str | None = None
    relationship_order: int | None = None
    delete_constraint: str | None = None
    createable: bool = True
    updateable: bool = True
    custom: bool = False
    calculated: bool = False
    id_lookup: bool = False
    name_field: bool = False
    visible_lines: int | None = None
    description: str | None = None
    defaulted_on_create: bool = False
    never_null: bool = False
    formula: str | None = None
    display_format: str | None = None
    reparentable: bool = False
    help_text: str | None = None

    @property
    def describe_type(self) -> str:
        return DESCRIBE_TYPES.get(self.type, "string")

    @property
    def is_reference(self) -> bool:
        return self.type in ("Lookup", "MasterDetail")

    @property
    def is_master_detail(self) -> bool:
        return self.type == "MasterDetail"

    @property
    def max_length(self) -> int | None:
        if self.type == "TextArea":
            return 255
        if self.type in TEXT_TYPES or self.type in ("Picklist", "MultiselectPicklist"):
            return self.length
        return None

    @property
    def picklist_value_set(self) -> frozenset[str]:
        return frozenset(v.value for v in self.picklist_values if v.active)

    @property
    def nillable(self) -> bool:
        if self.type == "Checkbox" or self.is_master_detail or self.name == "Id":
            return False
        if self.never_null:
            return False
        return not self.required


@dataclass(frozen=True)
class ChildRelationship:
    """A parent's view of a lookup pointing at it, e.g. Opportunity -> Payment_Plans__r.

    ``relationship_name`` is the sub-query name (None when the child is not queryable from
    the parent, as for CreatedById or ContentVersion.FirstPublishLocationId).
    """

    child_object: str
    field: str
    relationship_name: str | None
    cascade_delete: bool


@dataclass(frozen=True)
class ObjectDef:
    """One sObject. ``fields`` is keyed by canonical API name; look up with ``field()``.

    ``createable``/``updateable``/``deletable``/``queryable`` are the object-level describe
    flags (ContentDocument cannot be created through the API, a User cannot be deleted...).
    """

    name: str
    label: str
    plural_label: str
    custom: bool
    fields: Mapping[str, FieldDef]
    key_prefix: str | None = None
    sharing_model: str | None = None
    enable_activities: bool = False
    name_field_type: str = "Text"
    name_display_format: str | None = None
    description: str | None = None
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    queryable: bool = True
    _by_lower: Mapping[str, FieldDef] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_lower", {k.lower(): v for k, v in self.fields.items()})

    def field(self, name: str) -> FieldDef | None:
        """Case-insensitive lookup, as SOQL and the REST API resolve names."""
        return self._by_lower.get(name.lower())

    def __iter__(self) -> Iterator[FieldDef]:
        return iter(self.fields.values())

    @property
    def external_id_fields(self) -> tuple[FieldDef, ...]:
        return tuple(f for f in self.fields.values() if f.external_id)

    @property
    def master_detail_fields(self) -> tuple[FieldDef, ...]:
        return tuple(f for f in self.fields.values() if f.is_master_detail)


@dataclass(frozen=True)
class PermissionSetDef:
    name: str
    label: str
    #: object -> {"create", "read", "edit", "delete", "viewAll", "modifyAll"} (those granted)
    object_permissions: Mapping[str, frozenset[str]]
    field_permissions: Mapping[str, tuple[bool, bool]]  # "Obj.Field" -> (readable, editable)


@dataclass(frozen=True)
class Schema:
    """All objects known to the service, standard and custom."""

    objects: Mapping[str, ObjectDef]
    permission_sets: Mapping[str, PermissionSetDef] = field(default_factory=dict)
    #: Standard value sets shipped by the project (``OpportunityStage`` -> values), as read;
    #: ``load_schema`` has already applied them to the standard fields they govern.
    standard_value_sets: Mapping[str, tuple[PicklistValue, ...]] = field(default_factory=dict)
    #: ``sourceApiVersion`` of the SFDX project (None for a schema built by hand).
    api_version: str | None = None
    _by_lower: Mapping[str, ObjectDef] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_lower", {k.lower(): v for k, v in self.objects.items()})

    def object(self, name: str) -> ObjectDef | None:
        return self._by_lower.get(name.lower())

    def field(self, object_name: str, field_name: str) -> FieldDef | None:
        obj = self.object(object_name)
        return obj.field(field_name) if obj else None

    def child_relationships(self, parent: str) -> tuple[ChildRelationship, ...]:
        """Every lookup/master-detail in the schema that points at ``parent``."""
        target = parent.lower()
        found: list[ChildRelationship] = []
        for obj in self.objects.values():
            for f in obj.fields.values():
                if f.is_reference and any(r.lower() == target for r in f.reference_to):
                    found.append(
                        ChildRelationship(
                            child_object=obj.name,
                            field=f.name,
                            relationship_name=f.child_relationship_name,
                            cascade_delete=f.is_master_detail,
                        )
                    )
        return tuple(found)
