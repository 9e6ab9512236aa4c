"""The HTTP app over a real socket: health, readiness, metrics, limits, JSON errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from naturhome_sync.runtime import Runtime
from naturhome_sync.service import Service
from naturhome_sync.settings import Settings


@pytest.fixture
def service(runtime: Runtime) -> Iterator[Service]:
    with Service(runtime, workers=0, scheduler=False) as svc:
        yield svc


def test_healthz_answers_without_touching_anything(service: Service) -> None:
    response = requests.get(f"{service.url}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_is_ready_on_a_current_schema(service: Service) -> None:
    response = requests.get(f"{service.url}/readyz", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "schema": service.runtime.schema_state().head}


def test_readyz_is_503_with_a_reason_on_an_empty_database(settings: Settings) -> None:
    runtime = Runtime(settings)  # no upgrade
    try:
        with Service(runtime, workers=0, scheduler=False) as svc:
            response = requests.get(f"{svc.url}/readyz", timeout=5)
    finally:
        runtime.close()
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "not_ready"
    assert "naturhome-sync db upgrade" in body["reason"]


def test_readyz_is_503_when_the_database_is_unreachable(settings_factory: Any) -> None:
    settings = settings_factory("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    runtime = Runtime(settings)
    try:
        with Service(runtime, workers=0, scheduler=False) as svc:
            response = requests.get(f"{svc.url}/readyz", timeout=10)
            metrics = requests.get(f"{svc.url}/metrics", timeout=10)
    finally:
        runtime.close()
    assert response.status_code == 503
    assert response.json()["reason"].startswith("database unreachable")
    assert "naturhome_sync_store_up 0.0" in metrics.text


def test_metrics_count_events_and_show_the_queue(service: Service) -> None:
    url = service.url
    for key in ("a", "b", "a"):
        requests.post(f"{url}/testing/events", json={"key": key}, timeout=5)
    text = requests.get(f"{url}/metrics", timeout=5).text
    assert 'naturhome_sync_events_received_total{flow="probe",source="testing"} 2.0' in text
    assert 'naturhome_sync_events_duplicate_total{flow="probe",source="testing"} 1.0' in text
    assert 'naturhome_sync_queue_events{status="pending"} 2.0' in text
    assert "naturhome_sync_queue_oldest_pending_age_seconds" in text
    assert "naturhome_sync_build_info" in text


def test_webhook_style_route_stores_then_acknowledges(service: Service) -> None:
    first = requests.post(
        f"{service.url}/testing/events", json={"key": "k", "payload": {"n": 1}}, timeout=5
    )
    again = requests.post(f"{service.url}/testing/events", json={"key": "k"}, timeout=5)
    assert first.status_code == 202
    assert first.json()["stored"] == 1
    assert again.status_code == 202
    assert again.json()["duplicates"] == 1
    assert again.json()["event_ids"] == first.json()["event_ids"]
    stored = service.runtime.inbox.get(first.json()["event_ids"][0])
    assert stored is not None and stored.payload == {"n": 1}


def test_storage_failure_answers_503_so_the_sender_retries(settings_factory: Any) -> None:
    settings = settings_factory("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    runtime = Runtime(settings)
    try:
        with Service(runtime, workers=0, scheduler=False) as svc:
            response = requests.post(f"{svc.url}/testing/events", json={"key": "x"}, timeout=10)
    finally:
        runtime.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.json()["error"] == "unavailable"


def test_declared_body_over_the_limit_is_413(service: Service) -> None:
    limit = service.runtime.settings.http.max_body_bytes
    response = requests.post(
        f"{service.url}/testing/events",
        data=b"x" * (limit + 1),
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert service.runtime.inbox.list() == []


def test_streamed_body_over_the_limit_is_413(service: Service) -> None:
    limit = service.runtime.settings.http.max_body_bytes

    def chunks() -> Iterator[bytes]:
        for _ in range(limit // 4096 + 2):
            yield b" " * 4096

    response = requests.post(
        f"{service.url}/testing/events",
        data=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 413
    assert response.json()["message"].startswith("request body larger than")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/nowhere", None, 404, "not_found"),
        ("DELETE", "/healthz", None, 405, "method_not_allowed"),
        ("POST", "/testing/events", {"nokey": 1}, 422, "invalid_request"),
    ],
)
def test_errors_are_json(
    service: Service, method: str, path: str, body: Any, status: int, code: str
) -> None:
    response = requests.request(method, f"{service.url}{path}", json=body, timeout=5)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == code


def test_malformed_json_is_a_json_400_class_error(service: Service) -> None:
    response = requests.post(
        f"{service.url}/testing/events",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_unexpected_errors_are_json_500_without_internals(runtime: Runtime) -> None:
    from fastapi import APIRouter

    def broken_router(_runtime: Runtime) -> APIRouter:
        router = APIRouter()

        @router.get("/broken")
        def broken() -> None:
            raise RuntimeError("secret internals: token=abc")

        return router

    runtime.registry.add_router(broken_router)
    with Service(runtime, workers=0, scheduler=False) as svc:
        response = requests.get(f"{svc.url}/broken", timeout=5)
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal_error",
        "message": "internal error; the request was not processed",
    }
