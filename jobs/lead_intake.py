"""Lead intake: a HubSpot quote request becomes a Salesforce dossier without anyone typing.

One ``form_submission`` event (``jobs.hubspot_intake`` stores it, however it arrived) is
filed in two Salesforce API calls when the client is new and the files are ordinary:

1. **map** the submission (``mappings/hubspot_quote_request.yaml``); a required value that
   is missing stops here with a ``PermanentDataError`` naming the form field (dead letter and
   Integration_Error__c whose External_Id__c is the conversion id);
2. **read** (one Composite call): the contact holding the e-mail with its account's fields,
   the opportunity with this submission id, the intake Task, the files already attached
   (by key), and the owners' user ids when this process has not cached them yet;
3. **fetch** the files not attached yet through HubSpot's signed-url redirect (the token
   never goes to the storage host); a file too large, unreachable or refused becomes a French
   warning line on the dossier (``Intake_Warnings__c``) and never fails the request. A file
   that failed transiently (host unreachable, 5xx, rate limit) is fetched again by a
   follow-up event, 10, 20 then 40 minutes later
   (:func:`jobs.lead_intake_files.file_retry_event`);
4. **score** the dossier (``config/scoring.yaml``) and pick its owner
   (``config/lead_intake.yaml``);
5. **write** (one Composite Graph, all or nothing): see :mod:`jobs.lead_intake_plan`. When
   Salesforce refuses a file node for good (a name, a size, a rule of the org), the graph
   is written again without the files, and each file follows in a call of its own, where a
   refusal is a warning line: a file must never block the dossier;
6. hand the HubSpot write-back (opportunity id and URL on the contact) to the
   ``hubspot_write_back`` flow as a follow-up event, committed with this event's completion:
   a HubSpot failure retries the write-back alone and never redoes the Salesforce part.

Idempotency: every record has a key (Opportunity ``HubSpot_Submission_Id__c``, Contact
``HubSpot_Contact_Id__c`` when HubSpot named the contact, Task and ContentVersion
``Naturhome_Key__c``), the graph commits entirely or not at all, and each attempt reads
before it writes. A retry after a failure, or a replay, therefore finds what the previous
attempt committed and writes only the rest: a request already filed costs the read only. A
file that failed before is fetched again on every replay, and its old warning line is
replaced by the new outcome.

Concurrency: two *different* submissions of the same *new* person, filed at the same moment
by two workers, would both read "no contact" and create an account each. The intake of one
e-mail address therefore holds a deployment-wide lock (``runtime.key_locks``: a PostgreSQL
advisory lock across processes and machines, a plain lock on SQLite's single worker
process), so the second one reads what the first one wrote.

Lost answers: the connector does not repeat a POST (such as this graph) after a timeout or a
dropped connection, since Salesforce may have committed it; the event queue retries instead,
and its next attempt reads before it writes, so a graph that did commit is not written twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from connectors.hubspot_models import Submission
from connectors.hubspot_settings import HubSpotSettings
from connectors.salesforce import SalesforceClient, file_version
from connectors.salesforce_composite import CompositeResult
from jobs.hubspot_intake import submission_from_payload
from jobs.lead_intake_config import IntakeSetup, load_setup
from jobs.lead_intake_files import (
    FileLink,
    FileOutcome,
    download_warning,
    file_links,
    file_retry_delay,
    file_retry_event,
    file_warning_prefix,
    next_file_retry,
)
from jobs.lead_intake_plan import (
    FILE_NODE,
    NODE_OBJECTS,
    OPPORTUNITY,
    TASK,
    IntakePlan,
    mapping_source,
    merge_warnings,
    number_text,
    plan_intake,
)
from jobs.lead_intake_read import WARNINGS_FIELD, read_requests, state_from
from naturhome_sync.errors import (
    PermanentConfigError,
    PermanentDataError,
    SyncError,
    TransientError,
)
from naturhome_sync.flows import Flow, FlowContext, FlowRegistry, FlowResult
from naturhome_sync.mapping import MappedRecords, apply_mapping
from naturhome_sync.settings import Settings
from naturhome_sync.store import NewEvent

NAME = "lead_intake"
WRITE_BACK_FLOW = "hubspot_write_back"
GRAPH = "intake"
OWNER_CACHE_SECONDS = 3600.0
#: What Salesforce answers for the nodes of a failed graph that did not cause the failure.
_CONSEQUENCES = frozenset({"PROCESSING_HALTED", "ALL_OR_NONE_OPERATION_ROLLED_BACK"})


class _FileRefusedInGraph(Exception):
    """A file node made Salesforce refuse the whole intake graph (nothing was written)."""

    def __init__(self, node: str, error: SyncError) -> None:
        super().__init__(f"{node}: {error}")
        self.node = node
        self.error = error


def refused_file_node(answers: CompositeResult) -> tuple[str, SyncError] | None:
    """The file node, and its error, when a permanent refusal of a file failed the graph."""
    for ref, response in answers.responses.items():
        error = response.error()
        if error is None or error.code in _CONSEQUENCES:
            continue
        permanent = isinstance(error, PermanentDataError | PermanentConfigError)
        return (ref, error) if ref.startswith(FILE_NODE) and permanent else None
    return None


class OwnerCache:
    """Salesforce user ids of the configured owners, per process (they rarely change).

    Only users found active are cached, for an hour: a user created or reactivated after a
    miss is found by the next request, and one deactivated is noticed within the hour.
    """

    def __init__(
        self, ttl_s: float = OWNER_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl_s
        self._clock = clock
        self._ids: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def missing(self, usernames: Iterable[str]) -> list[str]:
        now = self._clock()
        with self._lock:
            return sorted(
                u for u in usernames if u.lower() not in self._ids or self._ids[u.lower()][1] < now
            )

    def add(self, found: Mapping[str, str]) -> dict[str, str]:
        """Remember ``found`` (username -> id); the cached ids still valid, all together."""
        now = self._clock()
        with self._lock:
            for username, user_id in found.items():
                self._ids[username.lower()] = (user_id, now + self._ttl)
            return {name: user_id for name, (user_id, until) in self._ids.items() if until >= now}


class LeadIntake:
    """The ``lead_intake`` handler, holding the configuration checked at start-up."""

    def __init__(self, setup: IntakeSetup) -> None:
        self.setup = setup
        self.owners = OwnerCache()

    def __call__(self, ctx: FlowContext) -> FlowResult:
        if ctx.settings.salesforce is None or ctx.settings.hubspot is None:
            raise PermanentConfigError(
                "the lead intake needs Salesforce and HubSpot (NATURHOME_SALESFORCE__*, "
                "NATURHOME_HUBSPOT__*)"
            )
        try:
            submission = submission_from_payload(ctx.event.payload)
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentDataError(
                f"the event does not hold a HubSpot submission ({exc!r})", code="INTAKE_PAYLOAD"
            ) from exc
        try:
            mapped = apply_mapping(
                self.setup.mapping, mapping_source(submission), external_id_field="conversion_id"
            )
            email = str(mapped.records.get("Contact", {}).get("Email") or submission.email or "")
            if not email:
                raise PermanentDataError("the request has no e-mail address", code="INTAKE_EMAIL")
            with ctx.runtime.key_locks.hold(f"lead_intake:{email.lower()}"):
                return self._file(ctx, submission, mapped, email)
        except SyncError as error:
            error.external_id = error.external_id or submission.conversion_id
            raise

    def _file(
        self, ctx: FlowContext, submission: Submission, mapped: MappedRecords, email: str
    ) -> FlowResult:
        client = ctx.runtime.services.salesforce
        calls_before = client.thread_api_calls
        links = file_links(submission)
        answer = client.composite(
            read_requests(
                self.setup,
                conversion_id=submission.conversion_id,
                email=email,
                contact_id=submission.contact_id,
                file_keys=[link.key for link in links],
                usernames=self.owners.missing(self.setup.config.usernames),
            ),
            all_or_none=False,
        )
        answer.raise_for_errors()
        state = state_from(answer, email=email, contact_id=submission.contact_id)
        state = replace(state, owners=self.owners.add(state.owners))
        retry = next_file_retry(ctx.event.payload)
        files = self._fetch(ctx, links, state.attached_keys, retry)

        def planned(files_in_graph: bool) -> IntakePlan:
            return plan_intake(
                self.setup, submission, mapped, state, files, files_in_graph=files_in_graph
            )

        plan = planned(True)
        if ctx.dry_run:
            return FlowResult(
                counters={
                    **plan.counters,
                    "salesforce_api_calls": client.thread_api_calls - calls_before,
                },
                summary="would write: " + ("; ".join(plan.lines()) or "nothing"),
            )
        try:
            opportunity_id, counters = self._write(client, plan)
        except _FileRefusedInGraph as refusal:
            ctx.log.warning(
                "file refused inside the intake graph: filing the dossier without the files",
                node=refusal.node,
                code=refusal.error.code,
                error=str(refusal.error),
            )
            plan = planned(False)
            opportunity_id, counters = self._write(client, plan)
        refused = counters.get("files_refused", 0)
        counters.update(plan.counters)
        counters["files_attached"] -= refused
        counters["files_failed"] += refused
        counters["salesforce_api_calls"] = client.thread_api_calls - calls_before
        follow_ups = [
            NewEvent(
                source="internal",
                kind="write_back",
                flow=WRITE_BACK_FLOW,
                dedupe_key=f"write_back:{submission.conversion_id}",
                payload={
                    "conversion_id": submission.conversion_id,
                    "contact_id": submission.contact_id,
                    "email": email,
                    "opportunity_id": opportunity_id,
                    "opportunity_url": client.record_url("Opportunity", opportunity_id),
                },
                correlation_id=ctx.event.correlation_id,
            )
        ]
        if retry is not None and any(f.transient for f in files):
            follow_ups.append(file_retry_event(ctx.event, submission.conversion_id, retry))
            counters["file_retry_scheduled"] = retry
        return FlowResult(
            counters=counters,
            summary=_summary(submission, plan, opportunity_id, counters),
            follow_ups=follow_ups,
        )

    def _fetch(
        self, ctx: FlowContext, links: list[FileLink], attached: frozenset[str], retry: int | None
    ) -> list[FileOutcome]:
        outcomes: list[FileOutcome] = []
        limit = self.setup.config.max_file_bytes
        retry_in = None if retry is None else int(file_retry_delay(retry).total_seconds() // 60)
        for link in links:
            if link.key in attached:
                outcomes.append(FileOutcome(link, "attached"))
            elif ctx.dry_run:
                outcomes.append(FileOutcome(link, "not_fetched"))
            else:
                try:
                    content = ctx.runtime.services.hubspot.download_file(link.url, limit)
                except SyncError as error:
                    ctx.log.warning(
                        "file not attached", file=link.name, code=error.code, error=str(error)
                    )
                    warning = download_warning(link, error, limit, retry_in_minutes=retry_in)
                    outcomes.append(
                        FileOutcome(link, "failed", warning=warning, transient=error.retryable)
                    )
                else:
                    outcomes.append(FileOutcome(link, "downloaded", file=content))
        return outcomes

    def _write(self, client: SalesforceClient, plan: IntakePlan) -> tuple[str, dict[str, int]]:
        counters: dict[str, int] = {}
        opportunity_id = plan.opportunity_id
        if plan.nodes:
            result = client.graph({GRAPH: plan.nodes})
            if GRAPH in result.graphs and not result.successful(GRAPH):
                file_node = refused_file_node(result[GRAPH])
                if file_node is not None:
                    raise _FileRefusedInGraph(*file_node)
            result.raise_for_errors()
            if GRAPH not in result.graphs or not result.successful(GRAPH):
                raise TransientError("Salesforce did not confirm the intake graph", code="GRAPH")
            answers = result[GRAPH]
            for ref, plural in NODE_OBJECTS.items():
                if ref in answers.responses:
                    outcome = "created" if answers[ref].created else "updated"
                    counters[f"{plural}_{outcome}"] = 1
            counters["tasks_written"] = int(TASK in answers.responses)
            opportunity_id = opportunity_id or answers[OPPORTUNITY].id
        if opportunity_id is None:
            raise TransientError("Salesforce gave no opportunity id", code="GRAPH")
        refused: list[str] = []
        for link, content in plan.separate_files:
            try:
                client.create(
                    "ContentVersion",
                    file_version(opportunity_id, content.name, content.content, key=link.key),
                )
            except (PermanentDataError, PermanentConfigError) as error:
                refused.append(
                    f"{file_warning_prefix(link.name)} : refusé par Salesforce ({error.code})"
                )
        if refused:
            text = merge_warnings(plan.warnings_text, refused, [])
            client.update("Opportunity", opportunity_id, {WARNINGS_FIELD: text})
            counters["files_refused"] = len(refused)
        return opportunity_id, counters


def _summary(
    submission: Submission, plan: IntakePlan, opportunity_id: str, counters: Mapping[str, int]
) -> str:
    scored = (
        f" ({plan.priority}, score {number_text(plan.score)})" if plan.score is not None else ""
    )
    return (
        f"submission {submission.conversion_id}: {'new' if plan.new_client else 'known'} client, "
        f"opportunity {opportunity_id}{scored}, {counters['files_attached']} file(s) attached, "
        f"{counters['files_skipped']} already there, {counters['files_failed']} failed, "
        f"{counters['warnings']} warning(s), {len(plan.nodes)} record write(s)"
    )


def default_max_file_bytes(settings: Settings) -> int:
    """The file-size limit when config/lead_intake.yaml sets none: the HubSpot setting's."""
    if settings.hubspot is not None:
        return settings.hubspot.max_file_bytes
    return int(HubSpotSettings.model_fields["max_file_bytes"].default)


def register(registry: FlowRegistry, settings: Settings) -> None:
    """Load and check the mapping, scoring rules and ``config/lead_intake.yaml`` now: a
    problem stops start-up. The flow is registered even without Salesforce or HubSpot
    settings (its events then fail with a configuration error, visible and replayable)."""
    setup = load_setup(
        config_dir=settings.config_dir,
        mappings_dir=settings.mappings_dir,
        salesforce_dir=settings.salesforce_dir,
        default_max_file_bytes=default_max_file_bytes(settings),
    )
    registry.add(
        Flow(
            name=NAME,
            handler=LeadIntake(setup),
            description="file a HubSpot quote request as a scored Salesforce opportunity",
        )
    )
