"""A local Salesforce org over loopback HTTP, for tests, demos and benchmarks.

simple-salesforce 1.12.10 runs against it unmodified: point it here with
``connectors.salesforce_transport.emulator_session(base_url)``::

    from sandbox.salesforce import EmulatorConfig, SalesforceEmulator

    with SalesforceEmulator(EmulatorConfig(state_dir=Path(".state/sf"))) as emulator:
        sf = Salesforce(username=..., password=..., security_token=...,
                        session=emulator_session(emulator.base_url), version="59.0")

What it emulates (details in ``docs/salesforce-emulator.md``): SOAP and OAuth logins
(password, client credentials, JWT bearer) with expiring sessions; sObject CRUD, upsert
and reads by external id; describe; limits and the daily API allocation; SOQL query and
queryAll with pagination; sObject Collections, Composite and Composite Graph; Files
(ContentVersion/ContentDocument/ContentDocumentLink); approval processes; validation as an
org answers it. State lives in SQLite under ``state_dir`` and survives restarts.

Unconfirmed behaviours are switches in :class:`Behaviour` (``EmulatorConfig.behaviour``);
the service must cope with both settings of each:

``upsert_update_status`` (200 | 204, default 200)
    Status of an upsert that updated an existing record: 200 with
    ``{id, success, errors, created: false}`` (current documentation) or an empty 204 (older
    versions, some clients).
``lock_row_status`` (400 | 500, default 400)
    Status given to an injected ``UNABLE_TO_LOCK_ROW`` fault that names no status.
``missing_record_error`` ("NOT_FOUND" | "INVALID_CROSS_REFERENCE_KEY", default NOT_FOUND)
    Answer (404 either way) to PATCH/DELETE of a well-formed id of the right object that
    does not exist.
``external_id_case_insensitive`` (default True)
    Whether a text external id that is not ``caseSensitive`` matches regardless of case
    (upserts, reads by external id, nested references). Uniqueness always follows the
    field's ``caseSensitive`` flag.
``null_matches_not_equal`` (default True)
    Whether SOQL ``Field != 'x'`` and ``Field NOT IN (...)`` also return rows where the
    field is null (SOQL, unlike SQL, compares null as a value).
``wrong_object_reference_code`` ("MALFORMED_ID" | "FIELD_INTEGRITY_EXCEPTION")
    errorCode when a lookup is given an id of another object (the documentation's example
    says MALFORMED_ID; orgs have been seen answering FIELD_INTEGRITY_EXCEPTION).
``plus_in_path_is_space`` (default False)
    Whether ``+`` in an external-id URL segment means a space (simple-salesforce's
    ``get_by_custom_id`` encodes spaces as ``+``; ``upsert`` paths built with
    ``format_external_id`` use ``%20``). Off: ``+`` is a literal plus.
``approval_errors`` ("http_400" | "per_request", default http_400)
    How ``/process/approvals/`` refuses a request (NO_APPLICABLE_PROCESS,
    ALREADY_IN_PROCESS): a 400 top-level error list for the whole call, or 200 with
    ``success: false`` entries while the other requests commit.
``content_version_title_from_path`` (default False)
    Whether a ContentVersion created without ``Title`` takes it from ``PathOnClient``
    (otherwise REQUIRED_FIELD_MISSING).

Other answers not confirmed against an org and chosen without a switch are listed under
"Known gaps" in the documentation.
"""

from sandbox.salesforce.config import (
    ApprovalProcess,
    Behaviour,
    Credentials,
    EmulatorConfig,
    RunningUser,
    invoice_approval_process,
)
from sandbox.salesforce.server import SalesforceEmulator

__all__ = [
    "ApprovalProcess",
    "Behaviour",
    "Credentials",
    "EmulatorConfig",
    "RunningUser",
    "SalesforceEmulator",
    "invoice_approval_process",
]
