"""Low-level access to SFDX source files, shared by the reader and the linter.

Both need the same facts (which files make up the project, which object a field file
belongs to, the text of one element) but react differently to bad input: the reader stops
with a ``ConfigurationError`` because a half-read schema would make the emulator lie, while
the linter keeps going and reports every problem at once. This module finds and parses;
``Element`` turns a bad value into the reader's error, naming file and element.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from naturhome_sync.errors import ConfigurationError

METADATA_NS = "http://soap.sforce.com/2006/04/metadata"
_NS = "{" + METADATA_NS + "}"

OBJECT_SUFFIX = ".object-meta.xml"
FIELD_SUFFIX = ".field-meta.xml"
VALUE_SET_SUFFIX = ".standardValueSet-meta.xml"
PERMISSION_SET_SUFFIX = ".permissionset-meta.xml"

# A comment (or anything but the declaration and whitespace) before the root element breaks
# source conversion in the sf CLI, so it is checked on the raw text.
_PROLOGUE = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>)?\s*")


@dataclass(frozen=True)
class ProjectFiles:
    """The metadata files of an SFDX project, grouped by kind, in a stable order."""

    project_dir: Path
    api_version: str | None
    object_files: tuple[Path, ...]
    field_files: tuple[Path, ...]
    value_set_files: tuple[Path, ...]
    permission_set_files: tuple[Path, ...]


def read_project_json(project_dir: Path) -> tuple[list[Path], str | None]:
    """Package directories and ``sourceApiVersion`` of ``sfdx-project.json``."""
    config = project_dir / "sfdx-project.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError("not an SFDX project (file missing)", source=str(config)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"unreadable: {exc}", source=str(config)) from exc
    if not isinstance(data, dict):
        raise ConfigurationError("must be a JSON object", source=str(config))
    entries = data.get("packageDirectories")
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(
            "must list at least one package directory", source=str(config), key="packageDirectories"
        )
    dirs: list[Path] = []
    for entry in entries:
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not path:
            raise ConfigurationError(
                "every entry needs a 'path'", source=str(config), key="packageDirectories"
            )
        dirs.append(project_dir / path)
    version = data.get("sourceApiVersion")
    if version is not None and not isinstance(version, str):
        raise ConfigurationError("must be a string", source=str(config), key="sourceApiVersion")
    return dirs, version


def find_project_files(project_dir: Path) -> ProjectFiles:
    """Every metadata file the schema cares about, under all package directories."""
    package_dirs, api_version = read_project_json(project_dir)
    found: dict[str, list[Path]] = {
        OBJECT_SUFFIX: [],
        FIELD_SUFFIX: [],
        VALUE_SET_SUFFIX: [],
        PERMISSION_SET_SUFFIX: [],
    }
    for package_dir in package_dirs:
        if not package_dir.is_dir():
            raise ConfigurationError("package directory does not exist", source=str(package_dir))
        for path in package_dir.rglob("*-meta.xml"):
            for suffix, bucket in found.items():
                if path.name.endswith(suffix):
                    bucket.append(path)
                    break
    return ProjectFiles(
        project_dir=project_dir,
        api_version=api_version,
        object_files=tuple(sorted(found[OBJECT_SUFFIX])),
        field_files=tuple(sorted(found[FIELD_SUFFIX])),
        value_set_files=tuple(sorted(found[VALUE_SET_SUFFIX])),
        permission_set_files=tuple(sorted(found[PERMISSION_SET_SUFFIX])),
    )


def component_name(path: Path, suffix: str) -> str:
    """``Status__c`` for ``.../Status__c.field-meta.xml``."""
    return path.name[: -len(suffix)]


def field_object_name(path: Path) -> str:
    """The object a field file belongs to: the folder above ``fields/``."""
    return path.parent.parent.name


def comment_before_root(raw: bytes) -> bool:
    """True when an XML comment precedes the root element."""
    prologue = _PROLOGUE.match(raw)
    start = prologue.end() if prologue else 0
    return raw[start:].startswith(b"<!--")


def parse_file(path: Path) -> tuple[bytes, ET.Element]:
    """Raw bytes and root element; ``ConfigurationError`` when the XML is not well formed."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"unreadable: {exc}", source=str(path)) from exc
    try:
        root = ET.fromstring(raw)  # noqa: S314 - files of our own repository
    except ET.ParseError as exc:
        raise ConfigurationError(f"not well-formed XML ({exc})", source=str(path)) from exc
    return raw, root


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def in_metadata_namespace(element: ET.Element) -> bool:
    return element.tag.startswith(_NS)


def child(element: ET.Element, tag: str) -> ET.Element | None:
    return element.find(_NS + tag)


def children(element: ET.Element, tag: str) -> list[ET.Element]:
    return element.findall(_NS + tag)


def text(element: ET.Element, tag: str) -> str | None:
    """Stripped text of the direct child ``tag`` (None when absent or empty)."""
    found = element.find(_NS + tag)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def has(element: ET.Element, tag: str) -> bool:
    return element.find(_NS + tag) is not None


class Element:
    """One metadata element plus the file it came from, for errors that name both."""

    def __init__(self, path: Path, element: ET.Element) -> None:
        self.path = path
        self.element = element

    def error(self, key: str, message: str) -> ConfigurationError:
        return ConfigurationError(message, source=str(self.path), key=key)

    def text(self, tag: str) -> str | None:
        return text(self.element, tag)

    def required_text(self, tag: str) -> str:
        value = self.text(tag)
        if value is None:
            raise self.error(tag, "element is missing or empty")
        return value

    def boolean(self, tag: str, default: bool = False) -> bool:
        value = self.text(tag)
        if value is None:
            return default
        if value not in ("true", "false"):
            raise self.error(tag, f"expected true or false, got {value!r}")
        return value == "true"

    def integer(self, tag: str) -> int | None:
        value = self.text(tag)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise self.error(tag, f"expected an integer, got {value!r}") from None

    def required_integer(self, tag: str) -> int:
        value = self.integer(tag)
        if value is None:
            raise self.error(tag, "element is missing or empty")
        return value

    def sub(self, tag: str) -> Element | None:
        found = child(self.element, tag)
        return Element(self.path, found) if found is not None else None
