"""Salesforce Files: ContentVersion inserts create the document and its links, new versions
move IsLatest, VersionData downloads the bytes, link queries need a filter."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from sandbox.salesforce import Behaviour

PDF = b"%PDF-1.4 fake invoice \x00\x01\x02"


def upload(sf: Any, data: bytes, path: str, **fields: Any) -> str:
    body = {
        "Title": fields.pop("Title", "Offer"),
        "PathOnClient": path,
        "VersionData": base64.b64encode(data).decode(),
    }
    body.update(fields)
    record_id: str = sf.ContentVersion.create(body)["id"]
    return record_id


@pytest.fixture
def opportunity(sf: Any) -> str:
    record_id: str = sf.Opportunity.create(
        {"Name": "o", "StageName": "Prospecting", "CloseDate": "2026-06-30"}
    )["id"]
    return record_id


def test_a_version_with_a_publish_location_creates_document_and_links(
    sf: Any, opportunity: str
) -> None:
    version_id = upload(sf, PDF, "offers/Offer 2026.PDF", FirstPublishLocationId=opportunity)
    assert version_id.startswith("068")
    [version] = sf.query(
        f"SELECT ContentDocumentId, VersionNumber, IsLatest, ContentSize, FileExtension, "
        "FileType, Checksum, "
        f"Title, VersionData FROM ContentVersion WHERE Id = '{version_id}'"
    )["records"]
    document_id = version["ContentDocumentId"]
    assert document_id.startswith("069")
    assert (version["VersionNumber"], version["IsLatest"], version["ContentSize"]) == (
        "1",
        True,
        len(PDF),
    )
    assert (version["FileExtension"], version["FileType"]) == ("pdf", "PDF")
    assert version["Checksum"] == hashlib.md5(PDF, usedforsecurity=False).hexdigest()
    assert (
        version["VersionData"]
        == f"/services/data/v59.0/sobjects/ContentVersion/{version_id}/VersionData"
    )
    links = sf.query(
        f"SELECT LinkedEntityId, ShareType, Visibility FROM ContentDocumentLink WHERE "
        f"ContentDocumentId = '{document_id}'"
    )["records"]
    linked = {link["LinkedEntityId"][:3]: link for link in links}
    assert set(linked) == {"005", "006"}  # the owner and the record
    assert linked["006"]["LinkedEntityId"] == opportunity
    document = sf.ContentDocument.get(document_id)
    assert document["LatestPublishedVersionId"] == version_id
    assert document["Title"] == "Offer"
    assert (document["FileType"], document["ContentSize"]) == ("PDF", len(PDF))


def test_version_data_downloads_the_bytes(sf: Any, opportunity: str) -> None:
    version_id = upload(sf, PDF, "offer.pdf", FirstPublishLocationId=opportunity)
    assert sf.ContentVersion.get_base64(version_id, base64_field="VersionData") == PDF


def test_a_new_version_moves_is_latest(sf: Any, opportunity: str) -> None:
    first = upload(sf, b"v1", "plan.txt", Title="Plan", FirstPublishLocationId=opportunity)
    document_id = sf.ContentVersion.get(first)["ContentDocumentId"]
    second = upload(
        sf, b"version two", "plan-v2.docx", Title="Plan v2", ContentDocumentId=document_id
    )
    rows = sf.query(
        f"SELECT Id, VersionNumber, IsLatest FROM ContentVersion WHERE ContentDocumentId = "
        f"'{document_id}' "
        "ORDER BY VersionNumber"
    )["records"]
    assert [(r["Id"], r["VersionNumber"], r["IsLatest"]) for r in rows] == [
        (first, "1", False),
        (second, "2", True),
    ]
    document = sf.ContentDocument.get(document_id)
    assert (document["LatestPublishedVersionId"], document["Title"], document["FileType"]) == (
        second,
        "Plan v2",
        "WORD_X",
    )
    assert sf.ContentVersion.get_base64(first, base64_field="VersionData") == b"v1"
    links = sf.query(
        f"SELECT Id FROM ContentDocumentLink WHERE ContentDocumentId = '{document_id}'"
    )
    assert links["totalSize"] == 2  # a new version adds no links


def test_files_of_a_record_through_a_link_sub_query(sf: Any, opportunity: str) -> None:
    upload(sf, b"a", "a.png", Title="A", FirstPublishLocationId=opportunity)
    upload(sf, b"b", "b.csv", Title="B", FirstPublishLocationId=opportunity)
    [row] = sf.query(
        "SELECT Id, (SELECT ContentDocument.Title, ContentDocument.FileType FROM "
        "ContentDocumentLinks) "
        f"FROM Opportunity WHERE Id = '{opportunity}'"
    )["records"]
    files = sorted(
        (r["ContentDocument"]["Title"], r["ContentDocument"]["FileType"])
        for r in row["ContentDocumentLinks"]["records"]
    )
    assert files == [("A", "PNG"), ("B", "CSV")]
    by_entity = sf.query(
        f"SELECT ContentDocumentId FROM ContentDocumentLink WHERE LinkedEntityId = '{opportunity}'"
    )
    assert by_entity["totalSize"] == 2


def test_links_can_be_added_once_per_record(sf: Any, opportunity: str) -> None:
    version_id = upload(sf, b"x", "x.pdf")
    document_id = sf.ContentVersion.get(version_id)["ContentDocumentId"]
    link = {"ContentDocumentId": document_id, "LinkedEntityId": opportunity, "ShareType": "V"}
    assert sf.ContentDocumentLink.create(link)["id"].startswith("06A")
    with pytest.raises(SalesforceMalformedRequest) as error:
        sf.ContentDocumentLink.create(link)
    assert error.value.content[0]["errorCode"] == "DUPLICATE_VALUE"


def test_version_requires_title_path_and_data(sf: Any) -> None:
    with pytest.raises(SalesforceMalformedRequest) as no_data:
        sf.ContentVersion.create({"Title": "t", "PathOnClient": "t.pdf"})
    assert no_data.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    with pytest.raises(SalesforceMalformedRequest) as no_title:
        sf.ContentVersion.create({"PathOnClient": "t.pdf", "VersionData": "eA=="})
    assert no_title.value.content[0]["fields"] == ["Title"]
    with pytest.raises(SalesforceMalformedRequest) as bad_base64:
        sf.ContentVersion.create({"Title": "t", "PathOnClient": "t.pdf", "VersionData": "***"})
    assert bad_base64.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert sf.query("SELECT COUNT() FROM ContentDocument")["totalSize"] == 0


def test_title_from_path_is_switchable(make_harness: Any) -> None:
    sf = make_harness(behaviour=Behaviour(content_version_title_from_path=True)).client()
    version_id = sf.ContentVersion.create(
        {"PathOnClient": "dir/Devis 42.pdf", "VersionData": "eA=="}
    )["id"]
    assert sf.ContentVersion.get(version_id)["Title"] == "Devis 42"


def test_documents_cannot_be_created_and_deleting_one_removes_its_versions_and_links(
    sf: Any, opportunity: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest):
        sf.ContentDocument.create({"Title": "x"})
    version_id = upload(sf, b"x", "x.pdf", FirstPublishLocationId=opportunity)
    document_id = sf.ContentVersion.get(version_id)["ContentDocumentId"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.ContentVersion.delete(version_id)
    sf.ContentDocument.delete(document_id)
    with pytest.raises(SalesforceResourceNotFound):
        sf.ContentVersion.get(version_id)
    links = sf.query(f"SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId = '{opportunity}'")
    assert links["totalSize"] == 0


def test_deleting_the_record_removes_its_links_but_not_the_file(sf: Any, opportunity: str) -> None:
    version_id = upload(sf, b"x", "x.pdf", FirstPublishLocationId=opportunity)
    document_id = sf.ContentVersion.get(version_id)["ContentDocumentId"]
    sf.Opportunity.delete(opportunity)
    links = sf.query(
        f"SELECT LinkedEntityId FROM ContentDocumentLink WHERE ContentDocumentId = '{document_id}'"
    )
    assert [r["LinkedEntityId"][:3] for r in links["records"]] == ["005"]
    assert sf.ContentDocument.get(document_id)["Id"] == document_id
