"""``naturhome-sync doctor``: is this environment fit to run the flows?

Checks, in order: the configuration (which org, which flow; never the emulator in
production), the store (reachable, schema current), Salesforce (login, API usage),
the org's schema against the contract in ``salesforce/`` (objects, fields, types, external
ids, picklist values, lookups), and HubSpot when configured. Each check yields findings;
an ``error`` finding means a flow would fail, so the command exits 1.

The comparison is pure (:func:`compare_object`): expected :class:`ObjectDef` in, describe
JSON in, findings out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import requests
from sqlalchemy.exc import SQLAlchemyError

from naturhome_sync.errors import NaturhomeError
from naturhome_sync.sfschema import FieldDef, ObjectDef, Schema, load_schema
from naturhome_sync.sfschema.standard import STANDARD_VALUE_SET_FIELDS

if TYPE_CHECKING:
    from naturhome_sync.runtime import Runtime
    from naturhome_sync.settings import Settings

Severity = Literal["ok", "warning", "error"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    area: str
    subject: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Report:
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)


def contract_fields(obj: ObjectDef, schema: Schema) -> list[FieldDef]:
    """The fields of ``obj`` the service relies on: its custom fields, and the standard
    picklists whose values the project ships (StageName, Account.Type, LeadSource)."""
    constrained = {
        target
        for set_name in schema.standard_value_sets
        for target in STANDARD_VALUE_SET_FIELDS.get(set_name, ())
    }
    return [f for f in obj.fields.values() if f.custom or f"{obj.name}.{f.name}" in constrained]


def compare_object(
    expected: ObjectDef, fields: Iterable[FieldDef], describe: Mapping[str, Any]
) -> list[Finding]:
    """What the org's describe of one object lacks compared with the contract."""
    findings: list[Finding] = []
    actual = {str(f["name"]).lower(): f for f in describe.get("fields", [])}
    for field in fields:
        subject = f"{expected.name}.{field.name}"
        found = actual.get(field.name.lower())
        if found is None:
            findings.append(
                Finding(
                    "error",
                    "schema",
                    subject,
                    "field missing (or not visible to the integration user: check the "
                    "permission set Naturhome_Integration)",
                )
            )
            continue
        findings.extend(_compare_field(subject, field, found))
    return findings


def _compare_field(subject: str, field: FieldDef, found: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    if found.get("type") != field.describe_type:
        findings.append(
            Finding(
                "error",
                "schema",
                subject,
                f"type is {found.get('type')}, expected {field.describe_type}",
            )
        )
        return findings
    if field.external_id and not found.get("externalId"):
        findings.append(
            Finding("error", "schema", subject, "not an External ID: upserts keyed on it will fail")
        )
    if field.is_reference:
        missing = set(field.reference_to) - set(found.get("referenceTo") or [])
        if missing:
            findings.append(
                Finding(
                    "error", "schema", subject, f"does not point to {', '.join(sorted(missing))}"
                )
            )
    if field.picklist_values:
        org_values = {
            str(v.get("value")) for v in found.get("picklistValues") or [] if v.get("active", True)
        }
        missing_values = [
            v for v in (p.value for p in field.picklist_values if p.active) if v not in org_values
        ]
        if missing_values:
            findings.append(
                Finding("error", "schema", subject, f"picklist lacks {', '.join(missing_values)}")
            )
    limit = field.max_length
    if limit and found.get("length") and int(found["length"]) < limit:
        findings.append(
            Finding(
                "warning",
                "schema",
                subject,
                f"length {found['length']} < {limit}: long values are refused",
            )
        )
    if field.createable and field.custom and found.get("createable") is False:
        findings.append(
            Finding(
                "error",
                "schema",
                subject,
                "not writable by the integration user (field-level security)",
            )
        )
    return findings


def check_schema(schema: Schema, describe: Callable[[str | None], Any]) -> list[Finding]:
    names = {str(o["name"]).lower() for o in describe(None).get("sobjects", [])}
    findings: list[Finding] = []
    for obj in sorted(schema.objects.values(), key=lambda o: o.name):
        fields = contract_fields(obj, schema)
        if not fields:
            continue
        if obj.name.lower() not in names:
            findings.append(
                Finding(
                    "error",
                    "schema",
                    obj.name,
                    "object missing (deploy salesforce/ with `sf project deploy start`)",
                )
            )
            continue
        problems = compare_object(obj, fields, describe(obj.name))
        findings.extend(problems or [Finding("ok", "schema", obj.name, "matches the contract")])
    return findings


def _guard(area: str, subject: str, check: Callable[[], Iterable[Finding]]) -> list[Finding]:
    """Run one check; whatever it raises becomes an error finding, not a traceback."""
    try:
        return list(check())
    except NaturhomeError as exc:
        return [Finding("error", area, subject, str(exc))]
    except SQLAlchemyError as exc:
        return [
            Finding(
                "error",
                area,
                subject,
                f"store unreachable: {exc.__class__.__name__}: {str(exc).splitlines()[0]}",
            )
        ]
    except requests.RequestException as exc:
        return [Finding("error", area, subject, f"cannot reach it: {exc}")]


def check_configuration(settings: Settings) -> list[Finding]:
    """Which org this environment talks to, and how; the emulator is refused in production."""
    sf = settings.salesforce
    if sf is None:
        return [
            Finding(
                "error", "configuration", "salesforce", "not configured (NATURHOME_SALESFORCE__...)"
            )
        ]
    where = (
        f"against the emulator at {sf.emulator_url}"
        if sf.emulator_url
        else f"at https://{sf.domain}.salesforce.com"
    )
    summary = f"auth={sf.auth} {where}, API v{sf.api_version}"
    if sf.emulator_url and settings.environment == "production":
        return [
            Finding(
                "error",
                "configuration",
                "salesforce",
                f"{summary}: production must talk to Salesforce, not the emulator "
                "(unset NATURHOME_SALESFORCE__EMULATOR_URL)",
            )
        ]
    return [Finding("ok", "configuration", "salesforce", summary)]


def check_api_usage(used: int, limit: int, stop_ratio: float) -> list[Finding]:
    """A warning when the org's daily allocation is used beyond the flows' stop threshold."""
    if limit <= 0 or used / limit < stop_ratio:
        return []
    return [
        Finding(
            "warning",
            "salesforce",
            "API usage",
            f"{used}/{limit} ({used / limit:.0%}) of today's API requests used, above the "
            f"{stop_ratio:.0%} threshold: non-urgent flows wait until usage falls",
        )
    ]


def diagnose(runtime: Runtime) -> Report:
    findings: list[Finding] = check_configuration(runtime.settings)

    def store() -> list[Finding]:
        state = runtime.schema_state()
        return [
            Finding(
                "ok" if state.is_current else "error",
                "store",
                runtime.engine.url.render_as_string(hide_password=True),
                state.describe(),
            )
        ]

    findings += _guard("store", "database", store)
    settings = runtime.settings
    sf_settings = settings.salesforce
    if sf_settings is not None:
        client = runtime.services.salesforce

        def login() -> list[Finding]:
            limits = client.limits()
            daily = limits.get("DailyApiRequests", {})
            limit = int(daily.get("Max", 0))
            used = limit - int(daily.get("Remaining", 0))
            return [
                Finding(
                    "ok",
                    "salesforce",
                    client.instance_url,
                    f"logged in ({sf_settings.auth}), API requests used today: {used}/{limit}",
                ),
                *check_api_usage(used, limit, sf_settings.api_usage_stop_ratio),
            ]

        login_findings = _guard("salesforce", "login", login)
        findings += login_findings
        if all(f.severity != "error" for f in login_findings):
            schema = load_schema(settings.salesforce_dir)
            findings += _guard(
                "schema",
                "describe",
                lambda: check_schema(schema, lambda name: client.describe(name)),
            )
    if settings.hubspot is not None:
        hubspot = runtime.services.hubspot

        def forms() -> list[Finding]:
            guids = settings.hubspot.form_guids if settings.hubspot else []
            result = []
            for guid in guids:
                page = hubspot.list_submissions(guid, limit=1)
                result.append(
                    Finding(
                        "ok",
                        "hubspot",
                        f"form {guid}",
                        f"readable ({len(page.submissions)} latest submission(s))",
                    )
                )
            return result or [Finding("warning", "hubspot", "forms", "no form GUID configured")]

        findings += _guard("hubspot", "forms", forms)
    return Report(findings)
