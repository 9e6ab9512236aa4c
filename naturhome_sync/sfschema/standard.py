"""The standard objects every org has, as far as the service touches them.

The SFDX project only carries what we add to an org; the fields Salesforce ships (Account
Name, Opportunity StageName, ContentVersion VersionData...) never appear in it, yet the
emulator must validate writes to them and ``doctor`` must know what a real org answers.
This module is that built-in half of the schema. It is deliberately limited to the fields
the service, its mappings and its tests use, with the types, lengths and required-ness a
real org reports (describe, API 59.0); an org has many more.

Simplifications, on purpose: polymorphic owners (Case.OwnerId can be a queue) point at
User only; Task.WhoId points at Contact only (no Lead here); User's locale picklists carry
a few European values and are not restricted, because the real lists are long.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from naturhome_sync.sfschema.model import FieldDef, ObjectDef, PicklistValue

#: Object name -> key prefix (stable across every org).
KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "User": "005",
    "Task": "00T",
    "Case": "500",
    "ContentVersion": "068",
    "ContentDocument": "069",
    "ContentDocumentLink": "06A",
    "Organization": "00D",
    "Profile": "00e",
}

#: Standard value set name -> the standard fields it governs (``Object.Field``).
STANDARD_VALUE_SET_FIELDS: dict[str, tuple[str, ...]] = {
    "OpportunityStage": ("Opportunity.StageName",),
    "AccountType": ("Account.Type",),
    "LeadSource": ("Opportunity.LeadSource", "Contact.LeadSource"),
    "TaskStatus": ("Task.Status",),
    "TaskPriority": ("Task.Priority",),
    "CaseStatus": ("Case.Status",),
    "CaseOrigin": ("Case.Origin",),
    "CasePriority": ("Case.Priority",),
}

_READ_ONLY: dict[str, Any] = {"createable": False, "updateable": False}
_SYSTEM: dict[str, Any] = {**_READ_ONLY, "defaulted_on_create": True, "never_null": True}


def _field(name: str, label: str, type_: str, **attrs: Any) -> FieldDef:
    return FieldDef(name=name, label=label, type=type_, **attrs)


def _text(name: str, label: str, length: int, **attrs: Any) -> FieldDef:
    return _field(name, label, "Text", length=length, **attrs)


def _ref(
    name: str,
    label: str,
    targets: Iterable[str],
    relationship: str,
    child: str | None = None,
    **attrs: Any,
) -> FieldDef:
    return _field(
        name,
        label,
        "Lookup",
        length=18,
        reference_to=tuple(targets),
        relationship_name=relationship,
        child_relationship_name=child,
        **attrs,
    )


def _values(*values: str, default: str | None = None) -> tuple[PicklistValue, ...]:
    return tuple(PicklistValue(value=v, label=v, default=v == default) for v in values)


def _picklist(name: str, label: str, values: tuple[PicklistValue, ...], **attrs: Any) -> FieldDef:
    default = next((v.value for v in values if v.default), None)
    attrs.setdefault("default_value", default)
    return _field(name, label, "Picklist", length=255, picklist_values=values, **attrs)


def _checkbox(name: str, label: str, default: bool = False, **attrs: Any) -> FieldDef:
    value = "true" if default else "false"
    return _field(name, label, "Checkbox", default_value=value, defaulted_on_create=True, **attrs)


def _long_text(name: str, label: str, length: int = 32000) -> FieldDef:
    return _field(name, label, "LongTextArea", length=length)


def owner_field(targets: tuple[str, ...] = ("User",)) -> FieldDef:
    """OwnerId: filled with the running user when a create leaves it out."""
    return _ref("OwnerId", "Owner ID", targets, "Owner", defaulted_on_create=True, never_null=True)


def system_fields(*, owner: bool, activities: bool = False) -> dict[str, FieldDef]:
    """The fields the platform maintains on (almost) every object.

    Detail objects of a master-detail have no owner; objects with activities get
    LastActivityDate, which the platform sets from their Tasks.
    """
    fields = [
        _field("Id", "Record ID", "Id", length=18, id_lookup=True, **_SYSTEM),
        *([owner_field()] if owner else []),
        _checkbox("IsDeleted", "Deleted", **_READ_ONLY),
        _field("CreatedDate", "Created Date", "DateTime", **_SYSTEM),
        _ref("CreatedById", "Created By ID", ("User",), "CreatedBy", **_SYSTEM),
        _field("LastModifiedDate", "Last Modified Date", "DateTime", **_SYSTEM),
        _ref("LastModifiedById", "Last Modified By ID", ("User",), "LastModifiedBy", **_SYSTEM),
        _field("SystemModstamp", "System Modstamp", "DateTime", **_SYSTEM),
    ]
    if activities:
        fields.append(_field("LastActivityDate", "Last Activity", "Date", **_READ_ONLY))
    return {f.name: f for f in fields}


def _object(
    name: str,
    label: str,
    plural: str,
    fields: Iterable[FieldDef],
    *,
    owner: bool = True,
    activities: bool = False,
    system: dict[str, FieldDef] | None = None,
    **attrs: Any,
) -> ObjectDef:
    base = system if system is not None else system_fields(owner=owner, activities=activities)
    merged = dict(base)
    merged.update({f.name: f for f in fields})
    return ObjectDef(
        name=name,
        label=label,
        plural_label=plural,
        custom=False,
        fields=merged,
        key_prefix=KEY_PREFIXES[name],
        enable_activities=activities,
        **attrs,
    )


def _address(prefix: str, label: str) -> list[FieldDef]:
    return [
        _field(f"{prefix}Street", f"{label} Street", "TextArea"),
        _text(f"{prefix}City", f"{label} City", 40),
        _text(f"{prefix}State", f"{label} State/Province", 80),
        _text(f"{prefix}PostalCode", f"{label} Zip/Postal Code", 20),
        _text(f"{prefix}Country", f"{label} Country", 80),
    ]


_LEAD_SOURCES = _values("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
_NAME: dict[str, Any] = {"name_field": True, "id_lookup": True}
_FULL_NAME: dict[str, Any] = {"name_field": True, **_READ_ONLY}


def _account() -> ObjectDef:
    types = _values(
        "Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
        "Installation Partner", "Technology Partner", "Other",
    )  # fmt: skip
    return _object("Account", "Account", "Accounts", [
        _text("Name", "Account Name", 255, required=True, **_NAME),
        _picklist("Type", "Account Type", types),
        *_address("Billing", "Billing"),
        _field("Phone", "Account Phone", "Phone", length=40),
        _field("Website", "Website", "Url", length=255),
        _long_text("Description", "Account Description"),
    ], activities=True)  # fmt: skip


def _contact() -> ObjectDef:
    return _object("Contact", "Contact", "Contacts", [
        _ref("AccountId", "Account ID", ("Account",), "Account", "Contacts"),
        _text("FirstName", "First Name", 40),
        _text("LastName", "Last Name", 80, required=True),
        _text("Name", "Full Name", 121, **_FULL_NAME),
        _field("Email", "Email", "Email", length=80, id_lookup=True),
        _field("Phone", "Business Phone", "Phone", length=40),
        _field("MobilePhone", "Mobile Phone", "Phone", length=40),
        *_address("Mailing", "Mailing"),
        _picklist("LeadSource", "Lead Source", _LEAD_SOURCES),
        _long_text("Description", "Contact Description"),
    ], activities=True)  # fmt: skip


def _opportunity() -> ObjectDef:
    stages = (
        PicklistValue("Prospecting", "Prospecting", probability=10),
        PicklistValue("Qualification", "Qualification", probability=10),
        PicklistValue("Proposal/Price Quote", "Proposal/Price Quote", probability=75),
        PicklistValue("Negotiation/Review", "Negotiation/Review", probability=90),
        PicklistValue("Closed Won", "Closed Won", closed=True, won=True, probability=100),
        PicklistValue("Closed Lost", "Closed Lost", closed=True, probability=0),
    )
    # StageName is restricted here: a stage outside OpportunityStage has no closed/won
    # meaning, and refusing it in the emulator catches mapping mistakes early.
    return _object("Opportunity", "Opportunity", "Opportunities", [
        _ref("AccountId", "Account ID", ("Account",), "Account", "Opportunities"),
        _text("Name", "Name", 120, required=True, **_NAME),
        _picklist("StageName", "Stage", stages, required=True, restricted=True),
        _field("Amount", "Amount", "Currency", precision=18, scale=2),
        _field("CloseDate", "Close Date", "Date", required=True),
        _picklist("LeadSource", "Lead Source", _LEAD_SOURCES),
        _field("Probability", "Probability (%)", "Percent", precision=3, scale=0,
               defaulted_on_create=True),
        _long_text("Description", "Description"),
        _checkbox("IsClosed", "Closed", **_READ_ONLY),
        _checkbox("IsWon", "Won", **_READ_ONLY),
    ], activities=True)  # fmt: skip


def _user() -> ObjectDef:
    def locale_list(name: str, label: str, *values: str) -> FieldDef:
        return _picklist(name, label, _values(*values), required=True)

    return _object("User", "User", "Users", [
        _text("Username", "Username", 80, required=True, unique=True, id_lookup=True),
        _text("FirstName", "First Name", 40),
        _text("LastName", "Last Name", 80, required=True),
        _text("Name", "Full Name", 121, **_FULL_NAME),
        _field("Email", "Email", "Email", length=128, required=True),
        _text("Alias", "Alias", 8, required=True),
        _checkbox("IsActive", "Active", default=True),
        _ref("ProfileId", "Profile ID", ("Profile",), "Profile", required=True),
        locale_list("TimeZoneSidKey", "Time Zone", "Europe/Brussels", "Europe/Luxembourg",
                    "Europe/Paris", "Europe/Berlin", "GMT"),
        locale_list("LocaleSidKey", "Locale", "fr_BE", "fr_LU", "fr_FR", "de_LU", "de_DE",
                    "nl_BE", "en_GB", "en_US"),
        locale_list("LanguageLocaleKey", "Language", "fr", "de", "nl_NL", "en_US"),
        locale_list("EmailEncodingKey", "Email Encoding", "UTF-8", "ISO-8859-1"),
    ], owner=False, deletable=False)  # fmt: skip


def _task() -> ObjectDef:
    statuses = _values(
        "Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred",
        default="Not Started",
    )  # fmt: skip
    defaulted: dict[str, Any] = {"defaulted_on_create": True, "never_null": True}
    return _object("Task", "Task", "Tasks", [
        # WhatId also reaches every custom object with activities; load_schema adds them.
        _ref("WhatId", "Related To ID", ("Account", "Opportunity", "Case"), "What", "Tasks"),
        _ref("WhoId", "Name ID", ("Contact",), "Who", "Tasks"),
        _field("Subject", "Subject", "Combobox", length=255, name_field=True),
        _long_text("Description", "Comments"),
        _picklist("Status", "Status", statuses, **defaulted),
        _picklist("Priority", "Priority", _values("High", "Normal", "Low", default="Normal"),
                  **defaulted),
        _field("ActivityDate", "Due Date Only", "Date"),
        _checkbox("IsClosed", "Closed", **_READ_ONLY),
        _ref("AccountId", "Account ID", ("Account",), "Account", **_READ_ONLY),
    ])  # fmt: skip


def _case() -> ObjectDef:
    defaulted: dict[str, Any] = {"defaulted_on_create": True, "never_null": True}
    return _object("Case", "Case", "Cases", [
        _field("CaseNumber", "Case Number", "AutoNumber", length=30, name_field=True,
               id_lookup=True, display_format="{00000000}", **_SYSTEM),
        _ref("AccountId", "Account ID", ("Account",), "Account", "Cases"),
        _ref("ContactId", "Contact ID", ("Contact",), "Contact", "Cases"),
        _text("Subject", "Subject", 255),
        _long_text("Description", "Description"),
        _picklist("Status", "Status", _values("New", "Working", "Escalated", "Closed",
                                              default="New"), **defaulted),
        _picklist("Origin", "Case Origin", _values("Phone", "Email", "Web")),
        _picklist("Priority", "Priority", _values("High", "Medium", "Low", default="Medium"),
                  defaulted_on_create=True),
        _checkbox("IsClosed", "Closed", **_READ_ONLY),
        _field("ClosedDate", "Closed Date", "DateTime", **_READ_ONLY),
    ], activities=True)  # fmt: skip


_CREATE_ONLY: dict[str, Any] = {"updateable": False}


def _content_version() -> ObjectDef:
    # Not deletable: a version goes away only with its ContentDocument.
    return _object("ContentVersion", "Content Version", "Content Versions", [
        _text("Title", "Title", 255, required=True, name_field=True),
        _text("PathOnClient", "Path On Client", 500, required=True, **_CREATE_ONLY),
        # Required unless ContentUrl is given (a link, not a file): the emulator checks it.
        _field("VersionData", "Version Data", "Base64", **_CREATE_ONLY),
        _ref("ContentDocumentId", "ContentDocument ID", ("ContentDocument",),
             "ContentDocument", "ContentVersions", defaulted_on_create=True, **_CREATE_ONLY),
        # Polymorphic: load_schema widens it to every object of the schema.
        _ref("FirstPublishLocationId", "First Publish Location ID",
             ("Account", "Contact", "Opportunity", "Case", "User"), "FirstPublishLocation",
             **_CREATE_ONLY),
        _field("Description", "Description", "LongTextArea", length=1000),
        _text("ReasonForChange", "Reason For Change", 1000),
        _picklist("ContentLocation", "Content Location",
                  _values("S", "E", "L", default="S"), defaulted_on_create=True, **_CREATE_ONLY),
        _field("ContentUrl", "Content URL", "Url", length=1300, **_CREATE_ONLY),
        _text("FileType", "File Type", 20, **_READ_ONLY),
        _text("FileExtension", "File Extension", 40, **_READ_ONLY),
        _field("ContentSize", "Size", "Int", precision=9, scale=0, **_READ_ONLY),
        _text("VersionNumber", "Version Number", 20, **_READ_ONLY),
        _checkbox("IsLatest", "Is Latest", **_READ_ONLY),
        _text("Checksum", "Checksum", 50, **_READ_ONLY),
    ], deletable=False)  # fmt: skip


def _content_document() -> ObjectDef:
    return _object("ContentDocument", "Content Document", "Content Documents", [
        _text("Title", "Title", 255, name_field=True),
        _ref("LatestPublishedVersionId", "Latest Published Version ID", ("ContentVersion",),
             "LatestPublishedVersion", **_READ_ONLY),
        _text("FileType", "File Type", 20, **_READ_ONLY),
        _text("FileExtension", "File Extension", 40, **_READ_ONLY),
        _field("ContentSize", "Size", "Int", precision=9, scale=0, **_READ_ONLY),
        _field("Description", "Description", "LongTextArea", length=1000),
    ], createable=False)  # fmt: skip


def _content_document_link() -> ObjectDef:
    # Only Id, IsDeleted and SystemModstamp: a link has no owner and no audit fields.
    system = {
        k: v
        for k, v in system_fields(owner=False).items()
        if k in ("Id", "IsDeleted", "SystemModstamp")
    }
    return _object("ContentDocumentLink", "Content Document Link", "Content Document Links", [
        # Polymorphic: load_schema widens it to every object of the schema.
        _ref("LinkedEntityId", "Linked Entity ID",
             ("Account", "Contact", "Opportunity", "Case", "User"), "LinkedEntity",
             "ContentDocumentLinks", required=True, **_CREATE_ONLY),
        _ref("ContentDocumentId", "ContentDocument ID", ("ContentDocument",),
             "ContentDocument", "ContentDocumentLinks", required=True, **_CREATE_ONLY),
        _picklist("ShareType", "Share Type", _values("V", "C", "I", default="V"),
                  defaulted_on_create=True, never_null=True, restricted=True),
        _picklist("Visibility", "Visibility",
                  _values("AllUsers", "InternalUsers", "SharedUsers", default="AllUsers"),
                  defaulted_on_create=True, never_null=True, restricted=True),
    ], system=system)  # fmt: skip


def _organization() -> ObjectDef:
    return _object("Organization", "Organization", "Organizations", [
        _text("Name", "Name", 80, name_field=True, **_READ_ONLY),
        _text("InstanceName", "Instance Name", 5, **_READ_ONLY),
        _checkbox("IsSandbox", "Is Sandbox", **_READ_ONLY),
        _text("OrganizationType", "Edition", 40, **_READ_ONLY),
    ], owner=False, createable=False, updateable=False, deletable=False)  # fmt: skip


def _profile() -> ObjectDef:
    return _object("Profile", "Profile", "Profiles", [
        _text("Name", "Name", 255, name_field=True, **_READ_ONLY),
    ], owner=False, createable=False, updateable=False, deletable=False)  # fmt: skip


def standard_objects() -> dict[str, ObjectDef]:
    """A fresh copy of the built-in standard objects, keyed by API name."""
    objects = [
        _account(), _contact(), _opportunity(), _user(), _task(), _case(),
        _content_version(), _content_document(), _content_document_link(),
        _organization(), _profile(),
    ]  # fmt: skip
    return {o.name: o for o in objects}
