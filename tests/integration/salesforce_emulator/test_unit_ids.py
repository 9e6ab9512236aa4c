"""Id checksum and generation (module-level: these are pure functions)."""

from __future__ import annotations

import pytest

from sandbox.salesforce.ids import (
    checksum,
    custom_prefix,
    looks_like_id,
    make_id,
    normalize_id,
    to18,
)


@pytest.mark.parametrize(
    ("id15", "suffix"),
    [
        ("00190000001pPvH", "AAU"),
        ("0018a00001rBqb8", "AAC"),
        ("001R00000033I6A", "IAU"),
        ("a0D30000001n7Pi", "EAI"),
        ("0019000000B98de", "AAB"),
    ],
)
def test_checksum_matches_ids_printed_by_salesforce(id15: str, suffix: str) -> None:
    assert checksum(id15) == suffix
    assert to18(id15) == id15 + suffix
    assert to18(id15 + suffix) == id15 + suffix


def test_shapes_that_are_not_ids() -> None:
    assert not looks_like_id("001R00000033I6")  # 14
    assert not looks_like_id("001R00000033I6A-X")
    assert not looks_like_id("001R00000033I6AAAA")  # wrong checksum
    assert normalize_id("not an id") is None
    with pytest.raises(ValueError, match="not a Salesforce id"):
        to18("nope")


def test_generated_ids_carry_prefix_and_sort_in_creation_order() -> None:
    ids = [make_id("a00", n) for n in (1, 2, 61, 62, 3844)]
    assert all(len(i) == 18 and i.startswith("a00Nh") and looks_like_id(i) for i in ids)
    assert ids == sorted(ids)
    assert make_id("001", 1)[:15] == "001Nh0000000001"
    with pytest.raises(ValueError, match="3 characters"):
        make_id("01", 1)


def test_custom_prefixes() -> None:
    assert [custom_prefix(i) for i in (0, 1, 10, 61, 62)] == ["a00", "a01", "a0A", "a0z", "a10"]
