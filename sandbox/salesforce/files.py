"""Salesforce Files: what the platform does around a ContentVersion insert.

Inserting a ContentVersion without ``ContentDocumentId`` creates its ContentDocument and a
link to the owner (the running user); with ``FirstPublishLocationId`` also a link to that
record. Inserting one with ``ContentDocumentId`` adds a version: the new one becomes
``IsLatest`` and the document follows it. Size, extension, file type and checksum are
derived from the bytes and ``PathOnClient``, as the platform derives them.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from sandbox.salesforce.errors import SfError

if TYPE_CHECKING:
    from naturhome_sync.sfschema import ObjectDef
    from sandbox.salesforce.dml import Engine, WriteContext
    from sandbox.salesforce.store import Record

_FILE_TYPES = {
    "pdf": "PDF",
    "png": "PNG",
    "jpg": "JPG",
    "jpeg": "JPG",
    "gif": "GIF",
    "doc": "WORD",
    "docx": "WORD_X",
    "xls": "EXCEL",
    "xlsx": "EXCEL_X",
    "ppt": "POWER_POINT",
    "pptx": "POWER_POINT_X",
    "txt": "TEXT",
    "csv": "CSV",
    "zip": "ZIP",
    "xml": "XML",
    "html": "HTML",
    "htm": "HTML",
    "mp4": "MP4",
}


def file_type(path_on_client: str | None) -> tuple[str | None, str]:
    """``(extension, FileType)`` as the platform derives them from PathOnClient."""
    suffix = PurePosixPath((path_on_client or "").replace("\\", "/")).suffix.lower().lstrip(".")
    return (suffix or None), _FILE_TYPES.get(suffix, "UNKNOWN")


def _set(obj: ObjectDef, values: dict[str, Any], name: str, value: Any) -> None:
    if obj.field(name) is not None:
        values[name] = value


def prepare_version(
    engine: Engine, obj: ObjectDef, values: dict[str, Any], ctx: WriteContext
) -> None:
    """Derive the platform fields of a new version and create its document if needed."""
    blob = values.get("VersionData")
    if not isinstance(blob, bytes):
        raise SfError(
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [VersionData]",
            fields=["VersionData"],
        )
    path = values.get("PathOnClient")
    if values.get("Title") is None and path and engine.behaviour.content_version_title_from_path:
        values["Title"] = PurePosixPath(str(path).replace("\\", "/")).stem
    extension, kind = file_type(path)
    _set(obj, values, "ContentSize", len(blob))
    _set(obj, values, "FileExtension", extension)
    _set(obj, values, "FileType", kind)
    _set(obj, values, "Checksum", hashlib.md5(blob, usedforsecurity=False).hexdigest())
    _set(obj, values, "IsLatest", True)
    if values.get("Title") is None or path is None:
        return  # the required-field check reports what is missing
    document_id = values.get("ContentDocumentId")
    if document_id is not None:
        versions = engine.store.children("ContentVersion", "ContentDocumentId", [document_id])
        _set(obj, values, "VersionNumber", str(len(versions) + 1))
        return
    document = engine.schema.object("ContentDocument")
    if document is None:
        return
    system = _system(ctx)
    values["ContentDocumentId"] = engine.create(
        document,
        {"Title": values["Title"], "OwnerId": values.get("OwnerId") or ctx.user_id},
        system,
    )
    _set(obj, values, "VersionNumber", "1")


def after_version_created(engine: Engine, version_id: str, data: Record, ctx: WriteContext) -> None:
    """Make ``version_id`` the latest of its document and publish the new file."""
    document_id = data.get("ContentDocumentId")
    if document_id is None:
        return
    system = _system(ctx)
    version_obj = engine.schema.object("ContentVersion")
    for other_id in engine.store.children("ContentVersion", "ContentDocumentId", [document_id]):
        found = engine.store.get(other_id)
        if version_obj and found and other_id != version_id and found[2].get("IsLatest"):
            engine.write_fields(version_obj, other_id, found[2], {"IsLatest": False}, system)
    document = engine.schema.object("ContentDocument")
    doc = engine.store.get(document_id)
    if document is None or doc is None:
        return
    updates: dict[str, Any] = {}
    for name, source in (
        ("LatestPublishedVersionId", version_id),
        ("Title", data.get("Title")),
        ("ContentSize", data.get("ContentSize")),
        ("FileExtension", data.get("FileExtension")),
        ("FileType", data.get("FileType")),
    ):
        _set(document, updates, name, source)
    first_version = data.get("VersionNumber") in (None, "1")
    engine.write_fields(document, document_id, doc[2], updates, system)
    if not first_version:
        return
    link = engine.schema.object("ContentDocumentLink")
    if link is None:
        return
    owner = data.get("OwnerId") or ctx.user_id
    targets = [owner]
    location = data.get("FirstPublishLocationId")
    if location and location != owner:
        targets.append(location)
    for target in targets:
        engine.create(
            link,
            {
                "ContentDocumentId": document_id,
                "LinkedEntityId": target,
                "ShareType": "I",
                "Visibility": "AllUsers",
            },
            system,
        )


def check_new_link(engine: Engine, values: dict[str, Any]) -> None:
    """A document can be linked to a record once (DUPLICATE_VALUE otherwise)."""
    document_id, entity_id = values.get("ContentDocumentId"), values.get("LinkedEntityId")
    if not document_id or not entity_id:
        return
    for link_id in engine.store.children("ContentDocumentLink", "ContentDocumentId", [document_id]):
        found = engine.store.get(link_id)
        if found and found[2].get("LinkedEntityId") == entity_id:
            raise SfError(
                "DUPLICATE_VALUE",
                f"Document with ID: {document_id} is already linked with the entity with ID: "
                f"{entity_id}",
                fields=[],
            )


def document_renamed(engine: Engine, document_id: str, data: Record) -> None:
    """Renaming a document renames its latest version, as the Files UI shows it."""
    latest = data.get("LatestPublishedVersionId")
    version_obj = engine.schema.object("ContentVersion")
    found = engine.store.get(latest) if latest else None
    if version_obj is not None and found is not None and latest:
        engine.store.replace(latest, dict(found[2], Title=data.get("Title")))


def _system(ctx: WriteContext) -> WriteContext:
    return replace(ctx, system=True)
