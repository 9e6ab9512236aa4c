"""The Salesforce port the flows use: a small typed client over simple-salesforce 1.12.10.

What it adds to simple-salesforce, and why:

- **One login path, re-authentication once whatever the call path.** We log in ourselves
  (JWT bearer, client credentials, OAuth password or SOAP) and hand simple-salesforce the
  session. On ``INVALID_SESSION_ID`` from *any* call (REST, query, collections, files) the
  client logs in again once and repeats the call; a second refusal is an :class:`AuthError`.
  (simple-salesforce's own refresh works on some paths only and recurses without end on a
  session that keeps being refused.)
- **A timeout on every request** (:class:`connectors.http.TimeoutSession`).
- **Errors mapped by ``errorCode``** into the service's taxonomy
  (:mod:`connectors.salesforce_errors`), including per-record errors of collections.
- **Short retries for transient errors only** (tenacity); longer waits go back to the
  queue as the error's ``retry_after``. A create whose answer was lost (timeout, dropped
  connection) is not repeated in-process: it may have been committed.
- **API budget**: ``Sforce-Limit-Info`` of every response feeds Prometheus gauges and
  :meth:`SalesforceClient.check_budget`, which stops non-urgent flows above a share of the
  daily allocation.
- **Helpers the flows need**: ``query_iter``, ``upsert_many`` (sObject Collections, 200 a
  call, per-record results, optional skip of unchanged records), ``composite``/``graph``,
  ``attach_file`` (idempotent), ``submit_for_approval``, ``log_task``.

``SalesforceSettings.emulator_url`` points the whole client at the local emulator (the one
documented switch; production never sets it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceResourceNotFound,
)
from simple_salesforce.login import SalesforceLogin
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from connectors.http import TimeoutSession
from connectors.salesforce_collections import COLLECTION_LIMIT, upsert_chunk
from connectors.salesforce_composite import (
    CompositeResult,
    GraphResult,
    SubRequest,
    parse_composite,
    parse_graph,
)
from connectors.salesforce_errors import (
    AMBIGUOUS_CODES,
    first_error,
    map_exception,
    map_login_error,
    record_error,
)
from connectors.salesforce_results import (
    ApiUsage,
    ApiUsageGauges,
    ApprovalResult,
    AttachedFile,
    RecordResult,
    UpsertResult,
    parse_limit_info,
)
from connectors.salesforce_settings import SalesforceSettings
from connectors.salesforce_values import encode_record, file_version, soql_quote, task_values
from naturhome_sync.errors import AuthError, RateLimitedError, SyncError, TransientError
from naturhome_sync.logs import get_logger

__all__ = [  # the port's public surface (results and record builders live next door)
    "COLLECTION_LIMIT",
    "ApiUsage",
    "ApprovalResult",
    "AttachedFile",
    "RecordResult",
    "SalesforceClient",
    "UpsertResult",
    "build_session",
    "file_version",
    "parse_limit_info",
    "task_values",
]

T = TypeVar("T")
log = get_logger("connectors.salesforce")


def build_session(settings: SalesforceSettings) -> requests.Session:
    """The HTTP session of the client: timeouts always; the emulator redirect if set."""
    session = TimeoutSession(settings.connect_timeout_s, settings.read_timeout_s)
    if settings.emulator_url:
        from connectors.salesforce_transport import EmulatorRedirectAdapter

        session.mount("https://", EmulatorRedirectAdapter(settings.emulator_url))
    return session


class SalesforceClient:
    """Shared by the workers of one process: logins and call counters are guarded by locks,
    and requests sessions serve concurrent calls (no cookies or state kept between them)."""

    def __init__(
        self,
        settings: SalesforceSettings,
        *,
        metrics: Any | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self.session = session or build_session(settings)
        self.session.hooks["response"].append(self._observe_response)
        self._sf: Salesforce | None = None
        self._login_lock = threading.Lock()
        self.usage: ApiUsage | None = None
        self.api_calls = 0  # data calls answered by the org (logins excluded), all threads
        self._count_lock = threading.Lock()
        self._per_thread = threading.local()
        self.logins = 0
        self._login_status: int | None = None  # HTTP status of the last login answer
        self._gauges = ApiUsageGauges(metrics) if metrics is not None else None

    # -- session -----------------------------------------------------------------------------

    @property
    def sf(self) -> Salesforce:
        if self._sf is None:
            with self._login_lock:
                if self._sf is None:
                    self._sf = self._login()
        return self._sf

    @property
    def instance_url(self) -> str:
        return f"https://{self.sf.sf_instance}"

    def record_url(self, object_name: str, record_id: str) -> str:
        """The Lightning URL of a record, as a user opens it."""
        return f"{self.instance_url}/lightning/r/{object_name}/{record_id}/view"

    def _login(self) -> Salesforce:
        s = self.settings
        secret = _secret
        kwargs: dict[str, Any] = {
            "session": self.session,
            "sf_version": s.api_version,
            "domain": s.domain,
        }
        if s.auth == "jwt":
            kwargs.update(username=s.username, consumer_key=s.consumer_key)
            if s.private_key:
                kwargs["privatekey"] = secret(s.private_key)
            else:
                kwargs["privatekey_file"] = str(Path(str(s.private_key_file)))
        elif s.auth == "client_credentials":
            kwargs.update(consumer_key=s.consumer_key, consumer_secret=secret(s.consumer_secret))
        elif s.auth == "password":
            kwargs.update(
                username=s.username,
                password=secret(s.password) + secret(s.security_token),
                consumer_key=s.consumer_key,
                consumer_secret=secret(s.consumer_secret),
            )
        else:
            kwargs.update(
                username=s.username,
                password=secret(s.password),
                security_token=secret(s.security_token),
            )
        self._login_status = None
        try:
            session_id, instance = SalesforceLogin(**kwargs)
        except SalesforceAuthenticationFailed as exc:
            raise map_login_error(exc, "login", self._login_status) from exc
        except Exception as exc:
            error = map_exception(exc, "login")
            if error.code in AMBIGUOUS_CODES:  # a lost login answer commits nothing: retry it
                error.code = f"LOGIN_{error.code}"
            raise error from exc
        self.logins += 1
        log.info("logged in to Salesforce", auth=s.auth, instance=instance)
        return Salesforce(
            instance=instance,
            session_id=session_id,
            session=self.session,
            version=s.api_version,
            parse_float=Decimal,
            object_pairs_hook=dict,
        )

    def _relogin(self, stale: Salesforce | None) -> Salesforce:
        with self._login_lock:
            if self._sf is stale or self._sf is None:  # another thread may have done it
                self._sf = self._login()
            return self._sf

    def close(self) -> None:
        self.session.close()

    # -- calling -----------------------------------------------------------------------------

    def call(self, operation: str, fn: Callable[[Salesforce], T], *, idempotent: bool = True) -> T:
        """Run ``fn`` with re-login once on an expired session, short transient retries,
        and every error mapped into the taxonomy.

        A call that is not ``idempotent`` (a POST that creates) is not repeated after a
        timeout or a dropped connection: Salesforce may have committed it, and a second
        create would duplicate the record. Such errors go back to the queue, whose retry
        goes through the flow's idempotent path (external ids, existence checks).
        """

        def retry_now(exc: BaseException) -> bool:
            return _retry_now(exc) and (
                idempotent or getattr(exc, "code", None) not in AMBIGUOUS_CODES
            )

        retrying = Retrying(
            retry=retry_if_exception(retry_now),
            stop=stop_after_attempt(self.settings.retry_attempts),
            wait=self._wait,
            reraise=True,
        )
        result: T = retrying(self._call_once, operation, fn)
        return result

    def _call_once(self, operation: str, fn: Callable[[Salesforce], T]) -> T:
        sf = self.sf
        try:
            return fn(sf)
        except (SalesforceExpiredSession, RecursionError):
            log.info("session expired, logging in again", operation=operation)
            sf = self._relogin(sf)
            try:
                return fn(sf)
            except (SalesforceExpiredSession, RecursionError) as exc:
                refused = map_exception(exc, operation)
                raise AuthError(
                    f"{refused.message} (refused again right after a fresh login)",
                    code=refused.code,
                ) from exc
            except Exception as exc:
                raise map_exception(exc, operation) from exc
        except Exception as exc:
            raise map_exception(exc, operation) from exc

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(self.settings.retry_max_wait_s, 0.25 * 2 ** (state.attempt_number - 1))
        hinted = exc.retry_after if isinstance(exc, SyncError) and exc.retry_after else 0.0
        return float(min(self.settings.retry_max_wait_s, max(backoff, hinted)))

    @property
    def thread_api_calls(self) -> int:
        """Data calls made by the current thread: a flow's own cost when workers share the
        client (requests runs response hooks in the calling thread)."""
        return int(getattr(self._per_thread, "calls", 0))

    def _observe_response(self, response: requests.Response, *_a: Any, **_k: Any) -> None:
        info = response.headers.get("Sforce-Limit-Info")
        if "/services/oauth2/" in response.url or "/services/Soap/" in response.url:
            self._login_status = response.status_code
            return
        with self._count_lock:
            self.api_calls += 1
        self._per_thread.calls = self.thread_api_calls + 1
        if info:
            usage = parse_limit_info(info)
            if usage:
                self.usage = usage
                if self._gauges:
                    self._gauges.update(usage)

    def check_budget(self, *, urgent: bool = False) -> None:
        """Stop a non-urgent flow when the org's daily API allocation is running low."""
        if urgent or self.usage is None:
            return
        if self.usage.ratio >= self.settings.api_usage_stop_ratio:
            raise RateLimitedError(
                f"Salesforce API usage at {self.usage.used}/{self.usage.limit} "
                f"({self.usage.ratio:.0%}), above the {self.settings.api_usage_stop_ratio:.0%} "
                "reserved for urgent flows",
                code="API_BUDGET",
                retry_after=15 * 60,
            )

    # -- reading -----------------------------------------------------------------------------

    def query(self, soql: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        return list(self.query_iter(soql, include_deleted=include_deleted))

    def query_iter(
        self, soql: str, *, include_deleted: bool = False, batch_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every row of ``soql``, page by page (one API call per page of up to 2,000 rows).

        ``batch_size`` (200-2,000) asks for smaller pages (``Sforce-Query-Options``) when
        rows are wide; the org may still answer with fewer.
        """
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else {}
        page: dict[str, Any] = self.call("query", _query(soql, include_deleted, headers))
        while True:
            yield from page.get("records", [])
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self.call("query_more", _more(next_url, headers))

    def count(self, soql: str) -> int:
        page: dict[str, Any] = self.call("query", _query(soql, False, {}))
        return int(page["totalSize"])

    def get(
        self, object_name: str, record_id: str, fields: Sequence[str] | None = None
    ) -> dict[str, Any] | None:
        params = {"fields": ",".join(fields)} if fields else None

        def fn(sf: Salesforce) -> dict[str, Any] | None:
            try:
                result: dict[str, Any] = getattr(sf, object_name).get(record_id, params=params)
            except SalesforceResourceNotFound:
                return None
            return result

        return self.call(f"get {object_name}", fn)

    def get_by_external_id(
        self, object_name: str, field_name: str, value: str
    ) -> dict[str, Any] | None:
        """The record whose external id ``field_name`` is ``value``, None if there is none.

        A field the org does not know as an external id is a PermanentConfigError, not
        "no record": the answer is a 404 too, told apart by its message.
        """
        path = f"sobjects/{object_name}/{field_name}/{quote(str(value), safe='')}"

        def fn(sf: Salesforce) -> dict[str, Any] | None:
            try:
                result: dict[str, Any] | None = sf.restful(path)
            except SalesforceResourceNotFound as exc:
                if "external id field" in first_error(exc.content)[1].lower():
                    raise
                return None
            return result

        return self.call(f"get {object_name} by {field_name}", fn)

    def describe(self, object_name: str | None = None) -> Any:
        path = f"sobjects/{object_name}/describe" if object_name else "sobjects"
        return self.restful(path)

    def limits(self) -> Any:
        return self.restful("limits/")

    def restful(self, path: str, method: str = "GET", **kwargs: Any) -> Any:
        """Any REST resource under /services/data/vXX.X/ (JSON answer, None for 204)."""

        def fn(sf: Salesforce) -> Any:
            return sf.restful(path, method=method, **kwargs)

        return self.call(f"{method} {path.split('?')[0]}", fn, idempotent=method != "POST")

    # -- writing -----------------------------------------------------------------------------

    def create(self, object_name: str, values: Mapping[str, Any]) -> str:
        body = encode_record(values)
        result = self.restful(f"sobjects/{object_name}/", "POST", json=body)
        return str(result["id"])

    def update(self, object_name: str, record_id: str, values: Mapping[str, Any]) -> None:
        body = encode_record(values)
        self.restful(f"sobjects/{object_name}/{record_id}", "PATCH", json=body)

    def upsert(
        self, object_name: str, external_field: str, external_id: str, values: Mapping[str, Any]
    ) -> UpsertResult:
        """Create or update by external id (201 created; 200, or 204 on older APIs, updated)."""
        body = {k: v for k, v in encode_record(values).items() if k != external_field}
        path = f"sobjects/{object_name}/{external_field}/{quote(str(external_id), safe='')}"

        def fn(sf: Salesforce) -> requests.Response:
            response: requests.Response = sf._call_salesforce(
                "PATCH", sf.base_url + path, name=path, json=body
            )
            return response

        response = self.call(f"upsert {object_name}", fn)
        if response.status_code == 204 or not response.content:
            found = self.get_by_external_id(object_name, external_field, external_id)
            if not found:
                raise TransientError(f"upsert {object_name}: record not readable after upsert")
            return UpsertResult(id=str(found["Id"]), created=False)
        data = response.json()
        return UpsertResult(id=str(data["id"]), created=bool(data.get("created", False)))

    def delete(self, object_name: str, record_id: str) -> None:
        self.restful(f"sobjects/{object_name}/{record_id}", "DELETE")

    def upsert_many(
        self,
        object_name: str,
        external_field: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
        skip_unchanged: bool = False,
    ) -> list[RecordResult]:
        """Upsert by external id with sObject Collections, 200 records a call.

        Results come back aligned with ``records``; a failed record carries its mapped
        error and does not fail the others (unless ``all_or_none``). With
        ``skip_unchanged``, records whose values Salesforce already holds are not sent
        (one query per chunk instead of a write that would change nothing but
        LastModifiedDate).
        """
        results: list[RecordResult] = []
        for start in range(0, len(records), COLLECTION_LIMIT):
            chunk = list(records[start : start + COLLECTION_LIMIT])
            results += upsert_chunk(
                self,
                object_name,
                external_field,
                chunk,
                start,
                all_or_none=all_or_none,
                skip_unchanged=skip_unchanged,
            )
        return results

    def composite(
        self, requests_: Iterable[SubRequest], *, all_or_none: bool = True
    ) -> CompositeResult:
        """One Composite call: ≤ 25 subrequests for one API call."""
        subrequests = list(requests_)
        body = {
            "allOrNone": all_or_none,
            "compositeRequest": [r.to_json(self.settings.api_version) for r in subrequests],
        }
        answer = self.restful("composite", "POST", json=body)
        return parse_composite(answer, subrequests)

    def graph(self, graphs: Mapping[str, Sequence[SubRequest]]) -> GraphResult:
        """One Composite Graph call: each graph commits entirely or not at all."""
        body = {
            "graphs": [
                {
                    "graphId": graph_id,
                    "compositeRequest": [r.to_json(self.settings.api_version) for r in nodes],
                }
                for graph_id, nodes in graphs.items()
            ]
        }
        answer = self.restful("composite/graph", "POST", json=body)
        return parse_graph(answer, graphs)

    # -- files, approvals, activities ----------------------------------------------------------

    def find_file(self, key: str) -> AttachedFile | None:
        rows = self.query(
            "SELECT Id, ContentDocumentId FROM ContentVersion "
            f"WHERE Naturhome_Key__c = {soql_quote(key)} ORDER BY CreatedDate DESC LIMIT 1"
        )
        if not rows:
            return None
        return AttachedFile(str(rows[0]["Id"]), rows[0].get("ContentDocumentId"), created=False)

    def attach_file(
        self,
        record_id: str,
        filename: str,
        content: bytes,
        *,
        key: str,
        title: str | None = None,
    ) -> AttachedFile:
        """Attach ``content`` to the record as a Salesforce file, once per ``key``."""
        existing = self.find_file(key)
        if existing:
            return existing
        version_id = self.create(
            "ContentVersion", file_version(record_id, filename, content, key=key, title=title)
        )
        row = self.get("ContentVersion", version_id, ["ContentDocumentId"])
        return AttachedFile(version_id, (row or {}).get("ContentDocumentId"), created=True)

    def download_file(self, content_version_id: str) -> bytes:
        def fn(sf: Salesforce) -> bytes:
            content_versions: Any = getattr(sf, "ContentVersion")  # noqa: B009 (SFType via __getattr__)
            data: bytes = content_versions.get_base64(content_version_id, "VersionData")
            return data

        return self.call("download file", fn)

    def submit_for_approval(
        self,
        record_id: str,
        *,
        comments: str = "",
        process: str | None = None,
        next_approver_ids: Sequence[str] = (),
    ) -> ApprovalResult:
        request: dict[str, Any] = {
            "actionType": "Submit",
            "contextId": record_id,
            "comments": comments,
        }
        if process:
            request["processDefinitionNameOrId"] = process
        if next_approver_ids:
            request["nextApproverIds"] = list(next_approver_ids)
        return self._approval(request)

    def decide_approval(
        self, workitem_id: str, *, approve: bool, comments: str = ""
    ) -> ApprovalResult:
        return self._approval(
            {
                "actionType": "Approve" if approve else "Reject",
                "contextId": workitem_id,
                "comments": comments,
            }
        )

    def _approval(self, request: dict[str, Any]) -> ApprovalResult:
        answer = self.restful("process/approvals/", "POST", json={"requests": [request]})
        item = (answer or [{}])[0]
        if not item.get("success"):
            raise record_error(
                item.get("errors") or [{"message": str(item)}],
                record=f"approval of {request['contextId']}",
            )
        return ApprovalResult(
            success=True,
            instance_id=item.get("instanceId"),
            instance_status=item.get("instanceStatus"),
            workitem_ids=list(item.get("newWorkitemIds") or []),
        )

    def log_task(
        self,
        what_id: str,
        subject: str,
        *,
        key: str,
        description: str | None = None,
        owner_id: str | None = None,
        status: str = "Completed",
        activity_date: Any = None,
        priority: str = "Normal",
    ) -> UpsertResult:
        """A Task on the record's timeline, once per ``key`` (upsert on Naturhome_Key__c)."""
        return self.upsert(
            "Task",
            "Naturhome_Key__c",
            key,
            task_values(
                what_id,
                subject,
                description=description,
                owner_id=owner_id,
                status=status,
                activity_date=activity_date,
                priority=priority,
            ),
        )


def _query(
    soql: str, include_deleted: bool, headers: dict[str, str]
) -> Callable[[Salesforce], dict[str, Any]]:
    def fn(sf: Salesforce) -> dict[str, Any]:
        page: dict[str, Any] = sf.query(soql, include_deleted=include_deleted, headers=headers)
        return page

    return fn


def _more(next_url: str, headers: dict[str, str]) -> Callable[[Salesforce], dict[str, Any]]:
    def fn(sf: Salesforce) -> dict[str, Any]:
        page: dict[str, Any] = sf.query_more(next_url, identifier_is_url=True, headers=headers)
        return page

    return fn


def _retry_now(exc: BaseException) -> bool:
    """Retry in-process only short transient trouble; rate limits go back to the queue."""
    return isinstance(exc, TransientError) and not isinstance(exc, RateLimitedError)


def _secret(value: Any) -> str:
    return value.get_secret_value() if value is not None else ""
