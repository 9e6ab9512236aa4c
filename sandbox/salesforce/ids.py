"""Salesforce record ids: key prefixes, the 18-character case checksum, generation.

Salesforce ids are base-62 and case-sensitive in their 15-character form; the API always
answers with the 18-character form whose last three characters encode, chunk by chunk, which
of the first fifteen are upper-case, so the id survives case-insensitive tools. The emulator
emits 18 characters everywhere and accepts either form on input, as an org does.
"""

from __future__ import annotations

import re

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_SHAPE = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")

#: Key prefixes of the standard objects the emulator knows; stable across every org.
STANDARD_KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Opportunity": "006",
    "Lead": "00Q",
    "Task": "00T",
    "Event": "00U",
    "Case": "500",
    "Organization": "00D",
    "Profile": "00e",
    "RecordType": "012",
    "Group": "00G",
    "Attachment": "00P",
    "Note": "002",
    "ContentVersion": "068",
    "ContentDocument": "069",
    "ContentDocumentLink": "06A",
    "Product2": "01t",
    "Pricebook2": "01s",
    "PricebookEntry": "01u",
    "OpportunityLineItem": "00k",
    "Order": "801",
    "Contract": "800",
    "Campaign": "701",
    "ProcessDefinition": "04a",
    "ProcessInstance": "04g",
    "ProcessInstanceStep": "04h",
    "ProcessInstanceWorkitem": "04i",
}

#: Pod characters of every id the emulator mints.
POD = "Nh"
#: Prefix of query locators in ``nextRecordsUrl`` (not an sObject).
QUERY_LOCATOR_PREFIX = "01g"


def checksum(id15: str) -> str:
    """The three-letter suffix that turns a 15-character id into its 18-character form."""
    if len(id15) != 15:
        raise ValueError(f"checksum needs a 15-character id, got {id15!r}")
    suffix = []
    for chunk_start in range(0, 15, 5):
        bits = 0
        for position, char in enumerate(id15[chunk_start : chunk_start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix.append(_CHECKSUM_ALPHABET[bits])
    return "".join(suffix)


def to18(record_id: str) -> str:
    """The 18-character form of a 15- or 18-character id (raises ValueError otherwise)."""
    if not looks_like_id(record_id):
        raise ValueError(f"not a Salesforce id: {record_id!r}")
    return record_id[:15] + checksum(record_id[:15])


def looks_like_id(value: str) -> bool:
    """True when ``value`` has the shape of an id; an 18-character one must carry a valid
    checksum, which is how an org tells a mistyped id from a real one."""
    if not _ID_SHAPE.match(value):
        return False
    return len(value) == 15 or value[15:] == checksum(value[:15])


def normalize_id(value: str) -> str | None:
    """The canonical 18-character id, or None when ``value`` is not an id at all."""
    return to18(value) if looks_like_id(value) else None


def base62(number: int) -> str:
    if number < 0:
        raise ValueError("base62 of a negative number")
    digits = []
    while True:
        number, remainder = divmod(number, 62)
        digits.append(_BASE62[remainder])
        if number == 0:
            return "".join(reversed(digits))


def make_id(prefix: str, sequence: int) -> str:
    """The 18-character id number ``sequence`` of the object with key ``prefix``.

    Characters 4-5 name the pod (``Nh``, which no real pod uses, so an emulator id is easy
    to spot) and 6-15 are the base-62 sequence padded with zeros, so ids sort in creation
    order like an org's ids on one pod.
    """
    if len(prefix) != 3:
        raise ValueError(f"key prefix must have 3 characters: {prefix!r}")
    body = POD + base62(sequence).rjust(10, "0")
    if len(body) > 12:
        raise ValueError("id sequence exhausted")
    return to18(prefix + body)


def custom_prefix(index: int) -> str:
    """The ``index``-th custom-object key prefix: ``a00``, ``a01`` ... ``a0z``, ``a10`` ..."""
    if not 0 <= index < 62 * 62:
        raise ValueError("custom key prefixes exhausted")
    return "a" + base62(index).rjust(2, "0")
