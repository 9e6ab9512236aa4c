"""Verification of HubSpot request signatures (v1, v2, v3) for incoming webhooks.

We do not use ``hubspot.utils.signature.Signature`` from hubspot-api-client 12: it does not
apply HubSpot's percent-decoding table to the URI before checking a v3 signature, it accepts
timestamps in the future, and it raises on a missing or stale timestamp instead of answering.
A webhook handler must turn any bad input into a clean 401, so :func:`verify_request` never
raises on what the caller hands it; it returns a :class:`VerificationResult` whose ``reason``
says why a request was refused (for the log line and the metric, never for the sender).

Rules (HubSpot "Validating requests"):

* v3: ``X-HubSpot-Signature-v3`` = base64(HMAC-SHA256(secret, method + uri + body + timestamp))
  where ``uri`` is the exact URL HubSpot called with a fixed list of escapes decoded, and
  ``timestamp`` is the ``X-HubSpot-Request-Timestamp`` header (epoch ms) as sent. Requests
  older than five minutes are replays.
* v2: ``X-HubSpot-Signature`` = hex(SHA-256(secret + method + uri + body)), with
  ``X-HubSpot-Signature-Version: v2``; the URI is not decoded.
* v1: ``X-HubSpot-Signature`` = hex(SHA-256(secret + body)), version header ``v1``.

When the v3 header is present it alone decides: a request carrying a bad or stale v3
signature is not given a second chance through its v2 header. That alone does not stop
replays: a captured request whose v3 headers are stripped still carries a valid v2 (or v1)
signature, which signs no time. Only ``accepted_versions=("v3",)`` closes that door, for an
account whose deliveries all carry v3 (``HubSpotSettings.accepted_signature_versions``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

SIGNATURE_HEADER = "X-HubSpot-Signature"
VERSION_HEADER = "X-HubSpot-Signature-Version"
SIGNATURE_V3_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"

Version = Literal["v1", "v2", "v3"]
Reason = Literal[
    "ok",
    "missing_signature",
    "unsupported_version",
    "version_not_accepted",
    "missing_timestamp",
    "invalid_timestamp",
    "stale_timestamp",
    "future_timestamp",
    "signature_mismatch",
    "bad_input",
]

#: Escapes HubSpot turns back into characters before computing a v3 signature. Only these,
#: only in upper case, exactly as HubSpot's table lists them; ``%20``, ``%3D``, ``%26``... stay.
_V3_DECODED_ESCAPES: dict[str, str] = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_LEGACY_VERSIONS: dict[str, Version] = {"v1": "v1", "v2": "v2"}
_V3_ESCAPE_PATTERN = re.compile("|".join(re.escape(escape) for escape in _V3_DECODED_ESCAPES))


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The verdict on one request; ``version`` is the scheme that decided it, when known."""

    ok: bool
    reason: Reason
    version: Version | None = None

    def __bool__(self) -> bool:
        return self.ok


def decode_uri_for_v3(uri: str) -> str:
    """Apply HubSpot's fixed percent-decoding table, in one pass (no double decoding)."""
    return _V3_ESCAPE_PATTERN.sub(lambda match: _V3_DECODED_ESCAPES[match.group(0)], uri)


def signature_v1(client_secret: str, body: bytes) -> str:
    """Hex SHA-256 of ``secret + body`` (app webhook subscriptions, legacy)."""
    return hashlib.sha256(client_secret.encode("utf-8") + body).hexdigest()


def signature_v2(client_secret: str, method: str, uri: str, body: bytes) -> str:
    """Hex SHA-256 of ``secret + METHOD + uri + body`` (workflow webhooks, custom actions)."""
    source = (client_secret + method.upper() + uri).encode("utf-8") + body
    return hashlib.sha256(source).hexdigest()


def signature_v3(client_secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """Base64 HMAC-SHA256 over ``METHOD + decoded uri + body + timestamp``.

    ``timestamp`` is the header string exactly as received: re-formatting it (``float``)
    changes the hashed text and breaks the signature (hubspot-api-python#263).
    """
    message = (method.upper() + decode_uri_for_v3(uri)).encode("utf-8") + body
    message += timestamp.encode("utf-8")
    digest = hmac.new(client_secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def public_request_uri(
    public_base_url: str, raw_path: str | bytes, query_string: str | bytes
) -> str:
    """Rebuild the URL HubSpot called, as it called it, from what our server received.

    Behind a reverse proxy the request our process sees has another scheme and host (and
    perhaps a stripped prefix) than the URL HubSpot signed, so the scheme, host and any
    prefix come from configuration (``public_base_url``, e.g.
    ``https://sync.naturhome.lu/hooks``) and the path and query from the request, both
    *raw* (still percent-encoded, query parameters in their original order): with ASGI,
    ``scope["raw_path"]`` and ``scope["query_string"]``.
    """
    path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else raw_path
    query = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    uri = public_base_url.rstrip("/") + (path if path.startswith("/") else "/" + path)
    return f"{uri}?{query}" if query else uri


def verify_request(
    *,
    method: str,
    uri: str,
    body: bytes,
    headers: Mapping[str, str],
    client_secret: str,
    now_ms: int | None = None,
    max_age_s: int = 300,
    max_future_s: int = 60,
    accepted_versions: Collection[Version] = ("v1", "v2", "v3"),
) -> VerificationResult:
    """Check the HubSpot signature of one request; never raises.

    ``uri`` is the full URL HubSpot called (see :func:`public_request_uri`), ``body`` the raw
    bytes received. ``max_future_s`` tolerates a small clock skew: a v3 timestamp further
    ahead than that is refused, because a request "from the future" would stay replayable for
    longer than the five-minute window. ``accepted_versions`` lets the service refuse the
    v1 and v2 schemes, which sign no time: while they are accepted, a replay stripped of its
    v3 headers is verified on its old v1/v2 signature and the window does not apply.
    """
    try:
        return _verify(
            method=method,
            uri=uri,
            body=body,
            headers=headers,
            client_secret=client_secret,
            now_ms=int(time.time() * 1000) if now_ms is None else now_ms,
            max_age_s=max_age_s,
            max_future_s=max_future_s,
            accepted_versions=accepted_versions,
        )
    except (TypeError, ValueError, AttributeError, UnicodeError):
        return VerificationResult(False, "bad_input")


def _verify(
    *,
    method: str,
    uri: str,
    body: bytes,
    headers: Mapping[str, str],
    client_secret: str,
    now_ms: int,
    max_age_s: int,
    max_future_s: int,
    accepted_versions: Collection[Version],
) -> VerificationResult:
    if not isinstance(body, bytes | bytearray) or not client_secret:
        return VerificationResult(False, "bad_input")
    body = bytes(body)
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}

    signature_v3_value = lowered.get(SIGNATURE_V3_HEADER.lower())
    if signature_v3_value is not None:
        if "v3" not in accepted_versions:
            return VerificationResult(False, "version_not_accepted", "v3")
        return _verify_v3(
            signature_v3_value.strip(),
            lowered.get(TIMESTAMP_HEADER.lower()),
            method=method,
            uri=uri,
            body=body,
            client_secret=client_secret,
            now_ms=now_ms,
            max_age_s=max_age_s,
            max_future_s=max_future_s,
        )

    legacy_signature = lowered.get(SIGNATURE_HEADER.lower())
    if legacy_signature is None:
        return VerificationResult(False, "missing_signature")
    version = _LEGACY_VERSIONS.get(lowered.get(VERSION_HEADER.lower(), "").strip().lower())
    if version is None:
        return VerificationResult(False, "unsupported_version")
    if version not in accepted_versions:
        return VerificationResult(False, "version_not_accepted", version)
    if version == "v1":
        expected = signature_v1(client_secret, body)
    else:
        expected = signature_v2(client_secret, method, uri, body)
    if _same(expected, legacy_signature.strip().lower()):
        return VerificationResult(True, "ok", version)
    return VerificationResult(False, "signature_mismatch", version)


def _verify_v3(
    signature: str,
    timestamp: str | None,
    *,
    method: str,
    uri: str,
    body: bytes,
    client_secret: str,
    now_ms: int,
    max_age_s: int,
    max_future_s: int,
) -> VerificationResult:
    if timestamp is None or not timestamp.strip():
        return VerificationResult(False, "missing_timestamp", "v3")
    timestamp = timestamp.strip()
    if not timestamp.isdigit():
        return VerificationResult(False, "invalid_timestamp", "v3")
    age_ms = now_ms - int(timestamp)
    if age_ms > max_age_s * 1000:
        return VerificationResult(False, "stale_timestamp", "v3")
    if -age_ms > max_future_s * 1000:
        return VerificationResult(False, "future_timestamp", "v3")
    expected = signature_v3(client_secret, method, uri, body, timestamp)
    if _same(expected, signature):
        return VerificationResult(True, "ok", "v3")
    return VerificationResult(False, "signature_mismatch", "v3")


def _same(expected: str, received: str) -> bool:
    """Constant-time comparison that tolerates non-ASCII garbage in the received header."""
    return hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8"))


__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_V3_HEADER",
    "TIMESTAMP_HEADER",
    "VERSION_HEADER",
    "Reason",
    "VerificationResult",
    "Version",
    "decode_uri_for_v3",
    "public_request_uri",
    "signature_v1",
    "signature_v2",
    "signature_v3",
    "verify_request",
]
