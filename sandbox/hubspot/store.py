"""The emulator's durable state: contacts, form submissions, uploaded files, download links.

One SQLite file under the state directory, so a sandbox that is stopped and started again
still has its contacts and submissions. The emulator serves requests on its own event-loop
thread while tests and the demo call it from theirs, hence one connection guarded by a lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY,
    email TEXT,
    properties TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS contacts_live_email ON contacts (email) WHERE archived = 0;
CREATE TABLE IF NOT EXISTS submissions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    conversion_id TEXT NOT NULL UNIQUE,
    form_guid TEXT NOT NULL,
    submitted_ms INTEGER NOT NULL,
    form_values TEXT NOT NULL,
    page_url TEXT,
    contact_id INTEGER
);
CREATE INDEX IF NOT EXISTS submissions_newest
    ON submissions (form_guid, submitted_ms DESC, seq DESC);
CREATE TABLE IF NOT EXISTS files (
    file_id TEXT PRIMARY KEY,
    conversion_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS download_links (
    token TEXT PRIMARY KEY,
    file_id TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
"""

FIRST_CONTACT_ID = 1001


@dataclass(frozen=True)
class ContactRow:
    id: int
    properties: dict[str, str]
    created_ms: int
    updated_ms: int
    archived: bool


@dataclass(frozen=True)
class SubmissionRow:
    seq: int
    conversion_id: str
    form_guid: str
    submitted_ms: int
    values: list[dict[str, str]]
    page_url: str | None
    contact_id: int | None


@dataclass(frozen=True)
class FileRow:
    file_id: str
    conversion_id: str
    filename: str
    content_type: str
    content: bytes


class EmulatorStore:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / "hubspot-emulator.sqlite3"
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def reset(self) -> None:
        with self._lock:
            for table in ("contacts", "submissions", "files", "download_links"):
                self._db.execute(f"DELETE FROM {table}")
            self._db.execute("DELETE FROM sqlite_sequence")

    # contacts -------------------------------------------------------------------------------

    def contact(self, contact_id: int) -> ContactRow | None:
        return self._one_contact("SELECT * FROM contacts WHERE id = ?", (contact_id,))

    def live_contact_by_email(self, email: str) -> ContactRow | None:
        return self._one_contact(
            "SELECT * FROM contacts WHERE email = ? AND archived = 0", (email.strip().lower(),)
        )

    def contacts(self) -> list[ContactRow]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM contacts ORDER BY id").fetchall()
        return [_contact(row) for row in rows]

    def insert_contact(self, properties: dict[str, str], now_ms: int) -> ContactRow:
        with self._lock:
            (next_id,) = self._db.execute(
                "SELECT COALESCE(MAX(id) + 1, ?) FROM contacts", (FIRST_CONTACT_ID,)
            ).fetchone()
            self._db.execute(
                "INSERT INTO contacts (id, email, properties, created_ms, updated_ms)"
                " VALUES (?, ?, ?, ?, ?)",
                (next_id, _email_key(properties), "{}", now_ms, now_ms),
            )
            return self.save_contact(next_id, properties, now_ms)

    def save_contact(self, contact_id: int, properties: dict[str, str], now_ms: int) -> ContactRow:
        with self._lock:
            self._db.execute(
                "UPDATE contacts SET email = ?, properties = ?, updated_ms = ? WHERE id = ?",
                (_email_key(properties), json.dumps(properties), now_ms, contact_id),
            )
            row = self.contact(contact_id)
        assert row is not None
        return row

    def archive_contact(self, contact_id: int, now_ms: int) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE contacts SET archived = 1, updated_ms = ? WHERE id = ?",
                (now_ms, contact_id),
            )

    def _one_contact(self, sql: str, params: tuple[Any, ...]) -> ContactRow | None:
        with self._lock:
            row = self._db.execute(sql, params).fetchone()
        return None if row is None else _contact(row)

    # submissions ----------------------------------------------------------------------------

    def insert_submission(
        self,
        *,
        conversion_id: str,
        form_guid: str,
        submitted_ms: int,
        values: list[dict[str, str]],
        page_url: str | None,
        contact_id: int,
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO submissions (conversion_id, form_guid, submitted_ms, form_values,"
                " page_url, contact_id) VALUES (?, ?, ?, ?, ?, ?)",
                (conversion_id, form_guid, submitted_ms, json.dumps(values), page_url, contact_id),
            )

    def submissions_page(
        self, form_guid: str, limit: int, before: tuple[int, int] | None
    ) -> list[SubmissionRow]:
        """Newest first; ``before`` is the ``(submitted_ms, seq)`` key of the last row seen."""
        sql = "SELECT * FROM submissions WHERE form_guid = ?"
        params: list[Any] = [form_guid]
        if before is not None:
            sql += " AND (submitted_ms < ? OR (submitted_ms = ? AND seq < ?))"
            params += [before[0], before[0], before[1]]
        sql += " ORDER BY submitted_ms DESC, seq DESC LIMIT ?"
        params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [
            SubmissionRow(
                seq=row[0],
                conversion_id=row[1],
                form_guid=row[2],
                submitted_ms=row[3],
                values=json.loads(row[4]),
                page_url=row[5],
                contact_id=row[6],
            )
            for row in rows
        ]

    # files ----------------------------------------------------------------------------------

    def insert_file(self, file: FileRow) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?)",
                (file.file_id, file.conversion_id, file.filename, file.content_type, file.content),
            )

    def file(self, file_id: str) -> FileRow | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM files WHERE file_id = ?", (file_id,)).fetchone()
        return None if row is None else FileRow(row[0], row[1], row[2], row[3], bytes(row[4]))

    def insert_download_link(self, token: str, file_id: str, expires_ms: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO download_links VALUES (?, ?, ?)", (token, file_id, expires_ms)
            )

    def download_link(self, token: str) -> tuple[str, int] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT file_id, expires_ms FROM download_links WHERE token = ?", (token,)
            ).fetchone()
        return None if row is None else (str(row[0]), int(row[1]))


def _email_key(properties: dict[str, str]) -> str | None:
    email = properties.get("email", "").strip().lower()
    return email or None


def _contact(row: tuple[Any, ...]) -> ContactRow:
    return ContactRow(
        id=row[0],
        properties=json.loads(row[2]),
        created_ms=row[3],
        updated_ms=row[4],
        archived=bool(row[5]),
    )
