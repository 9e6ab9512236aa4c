from __future__ import annotations

import io
import json
import logging

import structlog

from naturhome_sync.logs import REDACTED, bound_to_event, configure_logging, get_logger


def _capture() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream=stream)
    return stream


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_secrets_never_reach_the_output() -> None:
    stream = _capture()
    log = get_logger("test")
    log.info(
        "calling salesforce",
        access_token="00Dxx!AQ4AQFakeTokenValue",
        password="hunter2",
        client_secret="shh-secret",
        headers={"Authorization": "Bearer abc.def.ghi", "X-HubSpot-Signature-v3": "c2lnbmF0dXJl"},
        url="https://svc:pa55word@db.example/naturhome",
        detail="retrying GET /x?access_token=tok123&limit=5 with Bearer eyJhbGciOi.payload.sig",
        nested=[{"session_id": "SESSION-1"}],
    )
    logging.getLogger("uvicorn.error").warning("token=LIBRARYTOKEN leaked by a library")
    output = stream.getvalue()
    for secret in (
        "00Dxx!AQ4AQFakeTokenValue",
        "hunter2",
        "shh-secret",
        "abc.def.ghi",
        "c2lnbmF0dXJl",
        "pa55word",
        "tok123",
        "eyJhbGciOi",
        "SESSION-1",
        "LIBRARYTOKEN",
    ):
        assert secret not in output, secret
    line = _lines(stream)[0]
    assert line["access_token"] == REDACTED
    assert line["headers"] == {"Authorization": REDACTED, "X-HubSpot-Signature-v3": REDACTED}
    assert line["url"] == f"https://svc:{REDACTED}@db.example/naturhome"
    assert "limit=5" in str(line["detail"])  # the rest of the text survives


def test_unit_of_work_context_is_on_every_line_and_cleared_after() -> None:
    stream = _capture()
    log = get_logger("test")
    with bound_to_event(42, "lead_intake", "corr-1"):
        log.info("first")
        logging.getLogger("some.library").info("second, from the standard library")
    log.info("outside")
    first, second, outside = _lines(stream)
    for line in (first, second):
        assert (line["event_id"], line["flow"], line["correlation_id"]) == (
            42,
            "lead_intake",
            "corr-1",
        )
    assert "event_id" not in outside
    structlog.contextvars.clear_contextvars()


def test_json_lines_carry_level_timestamp_and_logger() -> None:
    stream = _capture()
    get_logger("naturhome_sync.x").warning("hello", count=3)
    line = _lines(stream)[0]
    assert line["level"] == "warning"
    assert line["logger"] == "naturhome_sync.x"
    assert str(line["timestamp"]).endswith("Z")
    assert line["count"] == 3


def test_tracebacks_carry_no_frame_locals() -> None:
    stream = _capture()

    def login() -> None:
        password = "hunter2-IN-A-LOCAL"  # noqa: F841 - what a traceback with locals would show
        raise RuntimeError("login failed")

    try:
        login()
    except RuntimeError:
        get_logger("test").exception("could not log in")
    output = stream.getvalue()
    assert "hunter2-IN-A-LOCAL" not in output
    line = _lines(stream)[0]
    assert line["exception"][0]["exc_value"] == "login failed"  # type: ignore[index]
