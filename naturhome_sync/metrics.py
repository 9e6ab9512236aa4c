"""Prometheus metrics of one process, in a registry of its own (tests run several runtimes).

Counters follow the events (received, duplicate, processed, failed, dead) by ``source`` and
``flow``; queue depth and the age of the oldest due event are read from the store at scrape
time, so they are right whichever process did the work.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from naturhome_sync import __version__

if TYPE_CHECKING:
    from naturhome_sync.store import Inbox

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class _QueueCollector(Collector):
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "naturhome_sync_queue_events", "Events in the inbox by status", labels=["status"]
        )
        oldest = GaugeMetricFamily(
            "naturhome_sync_queue_oldest_pending_age_seconds",
            "Seconds the oldest due pending event has been waiting",
        )
        up = GaugeMetricFamily("naturhome_sync_store_up", "1 if the store answered the scrape")
        try:
            for status, count in self.inbox.depth_by_status().items():
                depth.add_metric([status], count)
            oldest.add_metric([], self.inbox.oldest_pending_age())
            up.add_metric([], 1)
            yield depth
            yield oldest
        except SQLAlchemyError:
            up.add_metric([], 0)
        yield up


class Metrics:
    def __init__(self, inbox: Inbox | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["source", "flow"]
        self._received = Counter(
            "naturhome_sync_events_received",
            "Events stored in the inbox",
            labels,
            registry=self.registry,
        )
        self._duplicate = Counter(
            "naturhome_sync_events_duplicate",
            "Deliveries recognised as already stored",
            labels,
            registry=self.registry,
        )
        self._processed = Counter(
            "naturhome_sync_events_processed",
            "Events whose flow succeeded",
            labels,
            registry=self.registry,
        )
        self._failed = Counter(
            "naturhome_sync_events_failed",
            "Failed attempts (retried or dead)",
            [*labels, "category"],
            registry=self.registry,
        )
        self._dead = Counter(
            "naturhome_sync_events_dead", "Events dead-lettered", labels, registry=self.registry
        )
        self._duration = Histogram(
            "naturhome_sync_event_processing_seconds",
            "Time spent in a flow handler per attempt",
            ["flow"],
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self._webhooks = Counter(
            "naturhome_sync_webhook_requests",
            "Webhook deliveries by outcome (accepted, bad_signature, malformed, store_failed)",
            ["source", "outcome"],
            registry=self.registry,
        )
        build = Gauge(
            "naturhome_sync_build_info",
            "Version of the running code",
            ["version"],
            registry=self.registry,
        )
        build.labels(version=__version__).set(1)
        if inbox is not None:
            self.registry.register(_QueueCollector(inbox))

    def gauge(self, name: str, documentation: str, labels: list[str] | None = None) -> Gauge:
        """A gauge for a connector (e.g. Salesforce API usage), in this process's registry."""
        return Gauge(name, documentation, labels or [], registry=self.registry)

    def received(self, source: str, flow: str, *, created: bool) -> None:
        (self._received if created else self._duplicate).labels(source, flow).inc()

    def webhook(self, source: str, outcome: str) -> None:
        self._webhooks.labels(source, outcome).inc()

    def processed(self, source: str, flow: str) -> None:
        self._processed.labels(source, flow).inc()

    def failed(self, source: str, flow: str, category: str) -> None:
        self._failed.labels(source, flow, category).inc()

    def dead(self, source: str, flow: str) -> None:
        self._dead.labels(source, flow).inc()

    def observe_duration(self, flow: str, seconds: float) -> None:
        self._duration.labels(flow).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
