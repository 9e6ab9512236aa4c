"""How HubSpot signs the requests it sends (v1, v2, v3), written independently of the service.

The service's verifier (``connectors.hubspot_signatures``) must never be imported here: if
both sides shared one implementation, a bug in it would sign and verify consistently and
every test would pass against a HubSpot that rejects us.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

# HubSpot's documented table of escapes decoded before a v3 signature is computed.
_V3_TABLE = (
    ("%3A", ":"),
    ("%2F", "/"),
    ("%3F", "?"),
    ("%40", "@"),
    ("%21", "!"),
    ("%24", "$"),
    ("%27", "'"),
    ("%28", "("),
    ("%29", ")"),
    ("%2A", "*"),
    ("%2C", ","),
    ("%3B", ";"),
)


def v3_canonical_uri(url: str) -> str:
    """Decode the table's escapes left to right, without decoding anything twice."""
    out: list[str] = []
    index = 0
    while index < len(url):
        chunk = url[index : index + 3]
        replacement = next((char for escape, char in _V3_TABLE if escape == chunk), None)
        if replacement is None:
            out.append(url[index])
            index += 1
        else:
            out.append(replacement)
            index += 3
    return "".join(out)


def sign_v1(secret: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + body).hexdigest()


def sign_v2(secret: str, method: str, url: str, body: bytes) -> str:
    return hashlib.sha256(f"{secret}{method}{url}".encode() + body).hexdigest()


def sign_v3(secret: str, method: str, url: str, body: bytes, timestamp_ms: int) -> str:
    message = f"{method}{v3_canonical_uri(url)}".encode() + body + str(timestamp_ms).encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()
