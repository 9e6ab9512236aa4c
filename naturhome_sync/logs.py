"""Structured logging: JSON lines in production, a readable console on a terminal.

Every line of a unit of work carries ``event_id``, ``flow`` and ``correlation_id`` because
the worker binds them as context variables (:func:`bound_to_event`). Secrets never reach the
output: :func:`redact_secrets` runs before rendering, on every line, whatever logged it
(our code, uvicorn, alembic, APScheduler all go through the same pipeline).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

REDACTED = "[REDACTED]"

#: Keys whose values are secrets wherever they appear (matched case-insensitively).
_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|signature|authori[sz]ation|api[_-]?key|session[_-]?id|"
    r"private[_-]?key|cookie|credential|assertion)",
    re.IGNORECASE,
)
#: Secrets embedded in free text: bearer tokens, basic auth, key=value pairs, URL passwords.
_SECRET_IN_TEXT = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=!-]{6,}"), r"\1 " + REDACTED),
    (
        re.compile(
            r"(?i)\b((?:access_|refresh_|id_)?token|password|client_secret|secret|sig(?:nature)?|"
            r"sign|assertion|session_?id|api_?key)=([^&\s\"']+)"
        ),
        r"\1=" + REDACTED,
    ),
    (re.compile(r"(?i)(\w+://[^:/\s@]+:)[^@\s/]+@"), r"\1" + REDACTED + "@"),
)


def is_secret_name(name: str) -> bool:
    """Whether a key or setting called ``name`` holds a secret (one list for logs and
    ``config show``)."""
    return bool(name) and _SECRET_KEY.search(name) is not None


def redact_text(text: str) -> str:
    for pattern, replacement in _SECRET_IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


def _redact(value: Any, key: str = "") -> Any:
    is_secret_key = is_secret_name(key)
    if is_secret_key and value not in (None, "", [], {}) and not isinstance(value, bool | int):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: _redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: blank secret-looking keys and secrets inside text values."""
    for key in list(event_dict):
        event_dict[key] = _redact(event_dict[key], key if key != "event" else "")
    return event_dict


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Install the pipeline for structlog and the standard library alike."""
    stream = stream or sys.stderr
    json_output = fmt == "json" or (fmt == "auto" and not stream.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    # Tracebacks without frame locals: locals hold credentials and raw webhook bodies.
    tracebacks = structlog.processors.ExceptionRenderer(
        structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
    )
    tail: list[Any] = ([tracebacks] if json_output else []) + [redact_secrets]

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *tail,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "alembic", "urllib3", "httpx", "zeep"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    for uvicorn_logger in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(uvicorn_logger).handlers[:] = []
        logging.getLogger(uvicorn_logger).propagate = True


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)


@contextmanager
def bound_to_event(event_id: int, flow: str, correlation_id: str) -> Iterator[None]:
    """Bind the unit-of-work context for every line logged inside the block."""
    tokens = structlog.contextvars.bind_contextvars(
        event_id=event_id, flow=flow, correlation_id=correlation_id
    )
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
