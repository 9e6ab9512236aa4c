"""The HubSpot port: form submissions, contacts and uploaded files, nothing else.

Contacts go through hubspot-api-client 12's generated ``crm.contacts`` APIs (urllib3). The
forms submissions endpoint, which the client does not wrap, and file downloads go through
our own ``requests.Session``: ``client.api_request`` calls ``requests.get`` with no timeout
and prints errors to stdout, and every call of ours must have a timeout.

Every call is retried a few times, seconds apart, when HubSpot or the network fails
transiently (tenacity); a wait longer than ``retry_max_wait_s`` (the rest of a rate-limit
window, a daily limit) is re-raised as a ``RateLimitedError`` for the job queue to honour.
urllib3's own retries are switched off so only one layer decides.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import hubspot.crm.contacts as hs_contacts
import requests
import urllib3
from hubspot import HubSpot
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from connectors.hubspot_errors import (
    HubSpotFileTooLargeError,
    HubSpotFileUnavailableError,
    HubSpotFileUrlError,
    HubSpotNotFoundError,
    error_from_response,
    transport_error,
)
from connectors.hubspot_files import download_with_redirects
from connectors.hubspot_models import Contact, DownloadedFile, Submission, SubmissionPage
from connectors.hubspot_settings import HubSpotSettings
from naturhome_sync.errors import SyncError, TransientError

T = TypeVar("T")

FORMS_PAGE_MAX = 50
BATCH_READ_MAX = 100
BURST_WINDOW_S = 10.0

#: Every sub-package of hubspot-api-client defines its own ApiException (no shared base);
#: list each package the connector calls.
SDK_API_EXCEPTIONS: tuple[type[Exception], ...] = (hs_contacts.ApiException,)


class _BurstWindow:
    """Our own calls of the last 10 s, to say when HubSpot's rolling window frees up.

    HubSpot's 429 on ``TEN_SECONDLY_ROLLING`` carries no ``Retry-After``; the oldest of our
    calls in the window leaves it first, which is when a new call is admitted again.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def record(self) -> None:
        with self._lock:
            now = self._clock()
            self._calls.append(now)
            while self._calls and self._calls[0] <= now - BURST_WINDOW_S:
                self._calls.popleft()

    def retry_after(self) -> float:
        with self._lock:
            if not self._calls:
                return BURST_WINDOW_S
            return max(1.0, self._calls[0] + BURST_WINDOW_S - self._clock())


class HubSpotClient:
    """Typed, retrying access to the few HubSpot calls the intake flow needs."""

    def __init__(
        self,
        settings: HubSpotSettings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        sdk = HubSpot(
            access_token=settings.access_token.get_secret_value(),
            host=settings.base_url,
            retry=False,
        )
        self._basic_api = sdk.crm.contacts.basic_api
        self._batch_api = sdk.crm.contacts.batch_api
        self._search_api = sdk.crm.contacts.search_api
        self._session = session or requests.Session()
        self._sleep = sleep
        self._burst = _BurstWindow(clock)
        self._timeout = (settings.connect_timeout_s, settings.read_timeout_s)

    def close(self) -> None:
        self._session.close()

    # forms ----------------------------------------------------------------------------------

    def list_submissions(
        self, form_guid: str, after: str | None = None, limit: int = FORMS_PAGE_MAX
    ) -> SubmissionPage:
        """One page of a form's submissions, newest first."""
        if not 0 < limit <= FORMS_PAGE_MAX:
            raise ValueError(f"limit must be between 1 and {FORMS_PAGE_MAX}")
        url = f"{self.settings.base_url}/form-integrations/v1/submissions/forms/{quote(form_guid)}"
        params: dict[str, str | int] = {"limit": limit}
        if after:
            params["after"] = after

        def call() -> Any:
            response = self._session.get(
                url, params=params, headers=self._auth_headers(), timeout=self._timeout
            )
            self._raise_for_status(response, "list form submissions")
            return response.json()

        data = self._with_retries("list form submissions", call)
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise TransientError(
                "HubSpot forms API: response has no results list", code="UNEXPECTED_RESPONSE"
            )
        next_page = (data.get("paging") or {}).get("next") or {}
        return SubmissionPage(
            submissions=[Submission.from_forms_api(form_guid, item) for item in results],
            next_after=next_page.get("after") or None,
        )

    def iter_submissions_since(self, form_guid: str, high_water_ms: int) -> Iterator[Submission]:
        """Submissions at or after ``high_water_ms``, newest first, fetched page by page.

        The mark is inclusive: two submissions can share a millisecond, so the one at the
        mark comes again and the caller's dedup on ``conversion_id`` (an upsert) drops it.
        """
        after: str | None = None
        while True:
            page = self.list_submissions(form_guid, after=after)
            for submission in page.submissions:
                if submission.submitted_at < high_water_ms:
                    return
                yield submission
            if page.next_after is None:
                return
            after = page.next_after

    def latest_submission_for_contact(
        self, form_guid: str, email: str, *, not_before_ms: int = 0, max_pages: int = 10
    ) -> Submission | None:
        """The newest submission of ``form_guid`` made with ``email`` (case-insensitive).

        For app-webhook events, which name a contact but not a submission. The forms API
        cannot filter, so this scans pages from the newest, down to ``not_before_ms`` and at
        most ``max_pages`` pages.
        """
        wanted = email.strip().lower()
        after: str | None = None
        for _ in range(max_pages):
            page = self.list_submissions(form_guid, after=after)
            for submission in page.submissions:
                if submission.submitted_at < not_before_ms:
                    return None
                if (submission.email or "").lower() == wanted:
                    return submission
            if page.next_after is None:
                return None
            after = page.next_after
        return None

    # contacts -------------------------------------------------------------------------------

    def get_contact(self, contact_id: str, properties: Sequence[str]) -> Contact:
        """A contact by id; a missing one raises :class:`HubSpotNotFoundError`."""
        record = self._with_retries(
            "get contact",
            lambda: self._basic_api.get_by_id(
                contact_id,
                properties=list(properties),
                archived=False,
                _request_timeout=self._timeout,
            ),
        )
        return Contact.from_sdk(record)

    def get_contact_by_email(self, email: str, properties: Sequence[str]) -> Contact | None:
        """The contact holding ``email``, or ``None`` (reads, unlike search, are not stale)."""
        try:
            record = self._with_retries(
                "get contact by email",
                lambda: self._basic_api.get_by_id(
                    email.strip(),
                    properties=list(properties),
                    id_property="email",
                    archived=False,
                    _request_timeout=self._timeout,
                ),
            )
        except HubSpotNotFoundError:
            return None
        return Contact.from_sdk(record)

    def read_contacts(
        self, ids: Sequence[str], properties: Sequence[str], *, id_property: str | None = None
    ) -> list[Contact]:
        """Batch read, 100 per call; ids HubSpot does not know are left out of the result."""
        contacts: list[Contact] = []
        for start in range(0, len(ids), BATCH_READ_MAX):
            chunk = ids[start : start + BATCH_READ_MAX]
            request = hs_contacts.BatchReadInputSimplePublicObjectId(
                inputs=[hs_contacts.SimplePublicObjectId(id=str(i)) for i in chunk],
                properties=list(properties),
                properties_with_history=[],
                id_property=id_property,
            )
            response = self._with_retries(
                "batch read contacts",
                functools.partial(
                    self._batch_api.read, request, archived=False, _request_timeout=self._timeout
                ),
            )
            contacts += [Contact.from_sdk(record) for record in response.results or []]
        return contacts

    def search_contacts(
        self, equals: Mapping[str, str], properties: Sequence[str], *, limit: int = 10
    ) -> list[Contact]:
        """Contacts whose properties equal ``equals`` (first page only).

        Search lags writes by seconds: never use it to ask "does this exist yet" right
        after a create; :meth:`get_contact_by_email` reads the record itself.
        """
        request = hs_contacts.PublicObjectSearchRequest(
            filter_groups=[
                {
                    "filters": [
                        {"propertyName": name, "operator": "EQ", "value": value}
                        for name, value in equals.items()
                    ]
                }
            ],
            properties=list(properties),
            limit=limit,
        )
        response = self._with_retries(
            "search contacts",
            lambda: self._search_api.do_search(
                public_object_search_request=request, _request_timeout=self._timeout
            ),
        )
        return [Contact.from_sdk(record) for record in response.results or []]

    def update_contact(self, contact_id: str, properties: Mapping[str, str]) -> Contact:
        """Set properties (``""`` clears one); an unknown property is a configuration error."""
        body = hs_contacts.SimplePublicObjectInput(properties=dict(properties))
        record = self._with_retries(
            "update contact",
            lambda: self._basic_api.update(contact_id, body, _request_timeout=self._timeout),
        )
        return Contact.from_sdk(record)

    def write_back_opportunity(
        self, contact_id: str, opportunity_id: str, opportunity_url: str
    ) -> Contact:
        """Record the Salesforce opportunity on the contact, in the configured properties."""
        return self.update_contact(
            contact_id,
            {
                self.settings.opportunity_id_property: opportunity_id,
                self.settings.opportunity_url_property: opportunity_url,
            },
        )

    # files ----------------------------------------------------------------------------------

    def download_file(self, signed_url: str, max_bytes: int | None = None) -> DownloadedFile:
        """Fetch an uploaded file from its ``signed-url-redirect`` link.

        The token goes only to that link; the redirect target (a CDN URL that authorises
        itself) gets no ``Authorization`` header. Raises :class:`HubSpotFileTooLargeError`
        past ``max_bytes`` (default ``max_file_bytes``), :class:`HubSpotFileUnavailableError`
        when a host cannot be reached or the link is refused, and, before any request,
        :class:`HubSpotFileUrlError` for anything but an uploaded-file link of the HubSpot
        API (of the configured portal, when ``portal_id`` is set).
        """
        limit = max_bytes or self.settings.max_file_bytes
        return self._with_retries(
            "download file",
            lambda: download_with_redirects(
                self._session,
                signed_url,
                api_base_url=self.settings.base_url,
                portal_id=self.settings.portal_id,
                auth_headers=self._auth_headers(),
                timeout=(self.settings.connect_timeout_s, self.settings.download_timeout_s),
                max_bytes=limit,
                api_error=self._response_error,
            ),
        )

    # plumbing -------------------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        token = self.settings.access_token.get_secret_value()
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def _response_error(self, response: requests.Response, operation: str) -> SyncError:
        return error_from_response(
            response.status_code,
            response.content,
            response.headers,
            operation=operation,
            burst_retry_after=self._burst.retry_after,
            account_timezone=self.settings.account_timezone,
        )

    def _raise_for_status(self, response: requests.Response, operation: str) -> None:
        if response.status_code >= 300:
            raise self._response_error(response, operation)

    def _with_retries(self, operation: str, call: Callable[[], T]) -> T:
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.retry_attempts),
            retry=retry_if_exception(self._worth_retrying_now),
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
        )
        result: T = retrying(self._mapped, operation, call)
        return result

    def _mapped(self, operation: str, call: Callable[[], T]) -> T:
        """Run one attempt and translate whatever HubSpot or the network said."""
        self._burst.record()
        try:
            return call()
        except SyncError:
            raise
        except SDK_API_EXCEPTIONS as error:
            status = int(getattr(error, "status", 0) or 0)
            if status == 0:  # urllib3 SSL failure wrapped by the generated client
                raise transport_error(operation, error) from error
            raise error_from_response(
                status,
                getattr(error, "body", None),
                dict(getattr(error, "headers", None) or {}),
                operation=operation,
                burst_retry_after=self._burst.retry_after,
                account_timezone=self.settings.account_timezone,
            ) from error
        except (urllib3.exceptions.HTTPError, requests.RequestException) as error:
            raise transport_error(operation, error) from error

    def _worth_retrying_now(self, error: BaseException) -> bool:
        if not isinstance(error, TransientError):
            return False
        return error.retry_after is None or error.retry_after <= self.settings.retry_max_wait_s

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, SyncError) and error.retry_after is not None:
            return error.retry_after
        return float(min(self.settings.retry_max_wait_s, 0.5 * 2 ** (state.attempt_number - 1)))


__all__ = [
    "Contact",
    "DownloadedFile",
    "HubSpotClient",
    "HubSpotFileTooLargeError",
    "HubSpotFileUnavailableError",
    "HubSpotFileUrlError",
    "HubSpotNotFoundError",
    "HubSpotSettings",
    "Submission",
    "SubmissionPage",
]
