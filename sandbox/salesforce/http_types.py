"""Framework-free request and response of the REST resources.

The HTTP layer and the composite resources both build :class:`RestRequest` objects and
dispatch them through the same router, so a subrequest inside ``/composite`` behaves exactly
like the same call made on its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, unquote_plus

from sandbox.salesforce.errors import SfError


@dataclass
class RestRequest:
    """One call under ``/services/data/vXX.X/``.

    ``segments`` are the path segments after the version, each decoded on its own from the
    raw path, so an external id containing ``%2F`` stays one segment.
    """

    method: str
    segments: list[str]
    query_string: str
    headers: dict[str, str]
    body: bytes
    version: str
    user_id: str
    #: Set on collections subrequests of an ``allOrNone`` composite, which overrides theirs.
    all_or_none_override: bool = False

    @property
    def params(self) -> dict[str, list[str]]:
        return parse_qs(self.query_string, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body as JSON; JSON_PARSER_ERROR with an org's wording when it is not."""
        if not self.body.strip():
            raise SfError(
                "JSON_PARSER_ERROR",
                "The HTTP entity body is required, but this request has no entity body.",
                fields=[],
            )
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", 1)
            column = getattr(exc, "colno", 1)
            raise SfError(
                "JSON_PARSER_ERROR",
                f"Unexpected character: {getattr(exc, 'msg', 'invalid JSON')} "
                f"at [line:{line}, column:{column}]",
                fields=[],
            ) from None

    def json_object(self, sobject: str) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise SfError(
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of {sobject} from START_ARRAY value "
                "[line:1, column:1]",
                fields=[],
            )
        return body


@dataclass
class RestResponse:
    status: int
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body).encode()


def error_response(error: SfError) -> RestResponse:
    return RestResponse(error.status, error.top_level())


def split_path(raw_path: str, *, plus_is_space: bool) -> list[str]:
    """Path segments decoded one by one (``%2F`` inside a segment stays in it)."""
    decode = unquote_plus if plus_is_space else unquote
    return [decode(part) for part in raw_path.split("/") if part != ""]
