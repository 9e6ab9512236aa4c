"""What the Salesforce port answers: typed results, and the org's API usage.

Kept apart from the client so flows (and their tests) can build and inspect results without
a client, and so the client module stays about talking to Salesforce.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from naturhome_sync.errors import SyncError


@dataclass(frozen=True)
class ApiUsage:
    """Requests used of the org's daily allocation, as ``Sforce-Limit-Info`` reports it."""

    used: int
    limit: int

    @property
    def ratio(self) -> float:
        return self.used / self.limit if self.limit else 0.0


@dataclass(frozen=True)
class RecordResult:
    """The outcome of one record of a collections call, aligned with the input.

    ``skipped`` records were not sent (Salesforce already holds their values); they carry
    the existing record's id.
    """

    index: int
    success: bool
    id: str | None = None
    created: bool | None = None
    skipped: bool = False
    error: SyncError | None = None


@dataclass(frozen=True)
class UpsertResult:
    id: str
    created: bool


@dataclass(frozen=True)
class AttachedFile:
    content_version_id: str
    content_document_id: str | None
    created: bool


@dataclass(frozen=True)
class ApprovalResult:
    success: bool
    instance_id: str | None
    instance_status: str | None
    workitem_ids: list[str] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)


def parse_limit_info(header: str) -> ApiUsage | None:
    """``api-usage=25/15000; per-app-api-usage=...`` -> ApiUsage(25, 15000)."""
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "api-usage" and "/" in value:
            used, _, total = value.partition("/")
            try:
                return ApiUsage(int(used), int(total))
            except ValueError:
                return None
    return None


class ApiUsageGauges:
    """The org's API usage as Prometheus gauges, for dashboards and alerts."""

    def __init__(self, metrics: Any) -> None:
        self.used = metrics.gauge(
            "naturhome_sync_salesforce_api_requests_used",
            "Salesforce API requests used in the rolling 24 h (Sforce-Limit-Info)",
        )
        self.limit = metrics.gauge(
            "naturhome_sync_salesforce_api_requests_limit",
            "Salesforce daily API request allocation (Sforce-Limit-Info)",
        )

    def update(self, usage: ApiUsage) -> None:
        self.used.set(usage.used)
        self.limit.set(usage.limit)
