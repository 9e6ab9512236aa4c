"""Everything that makes one emulated org differ from another.

The switches in :class:`Behaviour` exist because the reference notes could not confirm how a
real org answers in those cases; each is tested in both settings so the service is known to
cope with either answer. Their meaning is documented in the package docstring.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from naturhome_sync.sfschema import Schema


@dataclass(frozen=True)
class Credentials:
    """What the emulated org accepts at login.

    The SOAP flow needs ``password + security_token``; the OAuth password flow accepts the
    password with or without the token (an org that trusts the caller's IP range accepts it
    without). ``jwt_public_key_pem`` switches on RS256 signature checks for the JWT bearer
    flow; without it any well-formed assertion with the right claims is accepted.
    """

    username: str = "integration@naturhome.example"
    password: str = "emulator-password"
    security_token: str = "EmulatorToken1"
    consumer_key: str = "emulator-consumer-key"
    consumer_secret: str = "emulator-consumer-secret"
    jwt_public_key_pem: str | None = None


@dataclass(frozen=True)
class RunningUser:
    """The integration user every session runs as (created as a User record at start)."""

    first_name: str = "Naturhome"
    last_name: str = "Integration"
    email: str = "integration@naturhome.example"
    alias: str = "integ"
    time_zone: str = "Europe/Brussels"


@dataclass(frozen=True)
class ApprovalProcess:
    """A one-step approval process, enough to play submit -> approve/reject.

    ``on_submit``/``on_approve``/``on_reject`` are field values written on the record when
    that action happens, e.g. ``{"Status__c": "Approved"}``; they bypass validation like a
    real field update action does. The approver is ``approver_username`` (default: the
    running user).
    """

    name: str
    object: str
    on_submit: Mapping[str, Any] = field(default_factory=dict)
    on_approve: Mapping[str, Any] = field(default_factory=dict)
    on_reject: Mapping[str, Any] = field(default_factory=dict)
    approver_username: str | None = None
    label: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Behaviour:
    """Switches for answers the reference notes could not confirm (see package docstring)."""

    upsert_update_status: Literal[200, 204] = 200
    lock_row_status: Literal[400, 500] = 400
    missing_record_error: Literal["NOT_FOUND", "INVALID_CROSS_REFERENCE_KEY"] = "NOT_FOUND"
    external_id_case_insensitive: bool = True
    null_matches_not_equal: bool = True
    wrong_object_reference_code: Literal["MALFORMED_ID", "FIELD_INTEGRITY_EXCEPTION"] = (
        "MALFORMED_ID"
    )
    plus_in_path_is_space: bool = False
    approval_errors: Literal["http_400", "per_request"] = "http_400"
    content_version_title_from_path: bool = False


def invoice_approval_process() -> ApprovalProcess:
    """The invoice approval the service relies on (DATA_MODEL: Invoice__c.Status__c)."""
    return ApprovalProcess(
        name="Invoice_Approval",
        object="Invoice__c",
        label="Invoice approval",
        on_submit={"Status__c": "Pending Approval"},
        on_approve={"Status__c": "Approved"},
        on_reject={"Status__c": "Rejected"},
    )


@dataclass(frozen=True)
class EmulatorConfig:
    """One emulated org.

    ``schema`` wins over ``salesforce_dir``; with neither, the shipped ``salesforce/`` project
    is loaded through ``naturhome_sync.sfschema.load_schema``. ``state_dir`` holds the SQLite
    file: the same directory gives the same data, ids and key prefixes after a restart.
    ``instance_url`` is what logins answer as the instance; by default the emulator's own
    base URL as the client reached it.
    """

    state_dir: Path
    schema: Schema | None = None
    salesforce_dir: Path | None = None
    org_id: str = "00D5g000004NatHEAS"
    my_domain: str = "naturhome"
    instance_url: str | None = None
    credentials: Credentials = field(default_factory=Credentials)
    running_user: RunningUser = field(default_factory=RunningUser)
    extra_users: tuple[Mapping[str, Any], ...] = ()
    token_ttl_seconds: int = 7200
    daily_api_requests: int = 15000
    max_api_version: str = "66.0"
    approval_processes: tuple[ApprovalProcess, ...] = field(
        default_factory=lambda: (invoice_approval_process(),)
    )
    org_timezone: str = "UTC"
    week_starts_on_monday: bool = False
    query_locator_ttl_seconds: int = 900
    max_open_query_locators: int = 10
    behaviour: Behaviour = field(default_factory=Behaviour)
    host: str = "127.0.0.1"
    port: int = 0
