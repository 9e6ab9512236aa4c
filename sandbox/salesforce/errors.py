"""The one exception the emulator raises for anything an org would refuse.

An org answers every refusal with the same shape: a JSON list of ``{message, errorCode,
fields}`` at the top level of a response, or ``{statusCode, message, fields}`` inside the
per-record results of collections and composite calls. Raising :class:`SfError` anywhere and
rendering it in one of those two shapes at the edge keeps the shapes identical everywhere.
"""

from __future__ import annotations

from typing import Any

NOT_FOUND_MESSAGE = "The requested resource does not exist"


class SfError(Exception):
    """A Salesforce error: HTTP ``status``, ``code`` (errorCode), ``message``, ``fields``.

    ``fields`` is None when the real API leaves the key out of the body (query errors,
    NOT_FOUND), and a list (possibly empty) when it sends one.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        fields: list[str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields

    def top_level(self) -> list[dict[str, Any]]:
        """The body of a failed REST call: a list with one error object."""
        body: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            body["fields"] = list(self.fields)
        return [body]

    def per_record(self) -> dict[str, Any]:
        """One entry of ``errors`` in a collections/composite per-record result."""
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields or [])}


def not_found(message: str = NOT_FOUND_MESSAGE) -> SfError:
    return SfError("NOT_FOUND", message, status=404)


def located(query: str, line: int, column: int, message: str) -> str:
    """A SOQL error message in Salesforce's layout: the query, a caret under the offending
    token, ``ERROR at Row:r:Column:c`` and the explanation."""
    lines = query.split("\n")
    row_text = lines[line - 1] if 0 < line <= len(lines) else query
    caret = " " * max(column - 1, 0) + "^"
    return f"\n{row_text}\n{caret}\nERROR at Row:{line}:Column:{column}\n{message}"
