"""The webhook signature verifier against HubSpot's published vectors and hostile input."""

from __future__ import annotations

import pytest

from connectors.hubspot_signatures import (
    decode_uri_for_v3,
    public_request_uri,
    signature_v1,
    signature_v2,
    signature_v3,
    verify_request,
)

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://www.example.com/webhook_uri"
DOC_V1_BODY = (
    b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
    b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
    b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
)
PHP_BODY = b'{"example_field":"example_value"}'
LIBRARY_BODY = b"{'example_field':'example_value'}"
LIBRARY_TIMESTAMP = "1693657560000"


def legacy_headers(signature: str, version: str) -> dict[str, str]:
    return {"X-HubSpot-Signature": signature, "X-HubSpot-Signature-Version": version}


def v3_headers(signature: str, timestamp: str) -> dict[str, str]:
    return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp}


def verify(
    headers: dict[str, str],
    *,
    body: bytes = LIBRARY_BODY,
    method: str = "POST",
    uri: str = URI,
    secret: str = SECRET,
    now_ms: int = int(LIBRARY_TIMESTAMP) + 1_000,
    **options: object,
) -> tuple[bool, str, str | None]:
    result = verify_request(
        method=method,
        uri=uri,
        body=body,
        headers=headers,
        client_secret=secret,
        now_ms=now_ms,
        **options,  # type: ignore[arg-type]
    )
    return result.ok, result.reason, result.version


@pytest.mark.parametrize(
    ("method", "body", "headers"),
    [
        pytest.param(
            "POST",
            DOC_V1_BODY,
            legacy_headers(
                "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de", "v1"
            ),
            id="v1-doc",
        ),
        pytest.param(
            "GET",
            b"",
            legacy_headers(
                "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e", "v2"
            ),
            id="v2-get-doc",
        ),
        pytest.param(
            "POST",
            PHP_BODY,
            legacy_headers(
                "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900", "v2"
            ),
            id="v2-post-php",
        ),
        pytest.param(
            "POST",
            LIBRARY_BODY,
            legacy_headers(
                "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750", "v1"
            ),
            id="v1-library",
        ),
        pytest.param(
            "POST",
            LIBRARY_BODY,
            legacy_headers(
                "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383", "v2"
            ),
            id="v2-library",
        ),
        pytest.param(
            "POST",
            LIBRARY_BODY,
            v3_headers("K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=", LIBRARY_TIMESTAMP),
            id="v3-library",
        ),
    ],
)
def test_published_vectors_are_accepted(method: str, body: bytes, headers: dict[str, str]) -> None:
    version = headers.get("X-HubSpot-Signature-Version", "v3")
    assert verify(headers, method=method, body=body) == (True, "ok", version)


def test_signature_functions_reproduce_the_vectors() -> None:
    assert signature_v1(SECRET, DOC_V1_BODY).startswith("232db2615f3d")
    assert signature_v2(SECRET, "get", URI, b"").startswith("eee2dddcc73c")
    assert signature_v3(SECRET, "POST", URI, LIBRARY_BODY, LIBRARY_TIMESTAMP) == (
        "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
    )


def test_header_names_are_case_insensitive() -> None:
    headers = {
        "x-hubspot-signature-v3": "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=",
        "X-HUBSPOT-REQUEST-TIMESTAMP": LIBRARY_TIMESTAMP,
    }
    assert verify(headers)[0]


class TestTimestampWindow:
    good = v3_headers("K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=", LIBRARY_TIMESTAMP)
    sent_at = int(LIBRARY_TIMESTAMP)

    def test_exactly_five_minutes_old_is_accepted(self) -> None:
        assert verify(self.good, now_ms=self.sent_at + 300_000)[0]

    def test_older_than_five_minutes_is_stale(self) -> None:
        assert verify(self.good, now_ms=self.sent_at + 300_001) == (False, "stale_timestamp", "v3")

    def test_small_clock_skew_is_tolerated(self) -> None:
        assert verify(self.good, now_ms=self.sent_at - 30_000)[0]

    def test_far_future_is_refused(self) -> None:
        assert verify(self.good, now_ms=self.sent_at - 61_000) == (
            False,
            "future_timestamp",
            "v3",
        )

    def test_window_is_configurable(self) -> None:
        assert not verify(self.good, now_ms=self.sent_at + 61_000, max_age_s=60)[0]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing_signature"),
        ({"X-HubSpot-Signature-v3": "abc"}, "missing_timestamp"),
        (v3_headers("abc", "1693657560000.0"), "invalid_timestamp"),
        (v3_headers("abc", "soon"), "invalid_timestamp"),
        ({"X-HubSpot-Signature": "abc"}, "unsupported_version"),
        (legacy_headers("abc", "v9"), "unsupported_version"),
        (legacy_headers("abc", "v2"), "signature_mismatch"),
        (v3_headers("not base64 \u00e9\u00e8", LIBRARY_TIMESTAMP), "signature_mismatch"),
    ],
)
def test_missing_or_malformed_headers_are_refused(headers: dict[str, str], reason: str) -> None:
    ok, got, _ = verify(headers)
    assert (ok, got) == (False, reason)


def test_tampered_body_fails_every_version() -> None:
    tampered = LIBRARY_BODY + b" "
    for headers in (
        legacy_headers(signature_v1(SECRET, LIBRARY_BODY), "v1"),
        legacy_headers(signature_v2(SECRET, "POST", URI, LIBRARY_BODY), "v2"),
        v3_headers("K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=", LIBRARY_TIMESTAMP),
    ):
        assert verify(headers, body=tampered)[:2] == (False, "signature_mismatch")


def test_wrong_secret_fails() -> None:
    headers = v3_headers("K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=", LIBRARY_TIMESTAMP)
    assert verify(headers, secret="another-secret")[:2] == (False, "signature_mismatch")


def test_v2_signs_method_and_uri() -> None:
    headers = legacy_headers(signature_v2(SECRET, "POST", URI, PHP_BODY), "v2")
    assert verify(headers, body=PHP_BODY)[0]
    assert not verify(headers, body=PHP_BODY, method="PUT")[0]
    assert not verify(headers, body=PHP_BODY, uri=URI + "?x=1")[0]


def test_bad_v3_is_not_rescued_by_a_valid_v2() -> None:
    """A replayed request keeps its valid v2 header; the stale v3 must still decide."""
    headers = {
        **legacy_headers(signature_v2(SECRET, "POST", URI, LIBRARY_BODY), "v2"),
        **v3_headers("K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=", LIBRARY_TIMESTAMP),
    }
    assert verify(headers, now_ms=int(LIBRARY_TIMESTAMP) + 600_000) == (
        False,
        "stale_timestamp",
        "v3",
    )


def test_accepted_versions_can_exclude_v1() -> None:
    headers = legacy_headers(signature_v1(SECRET, LIBRARY_BODY), "v1")
    assert verify(headers, accepted_versions=("v2", "v3")) == (
        False,
        "version_not_accepted",
        "v1",
    )


def test_bad_input_never_raises() -> None:
    headers = legacy_headers("abc", "v1")
    result = verify_request(
        method="POST",
        uri=URI,
        body="not bytes",  # type: ignore[arg-type]
        headers=headers,
        client_secret=SECRET,
    )
    assert (result.ok, result.reason) == (False, "bad_input")
    assert not verify_request(
        method="POST", uri=URI, body=b"", headers=headers, client_secret=""
    ).ok


class TestUriHandling:
    def test_v3_decoding_table_is_applied_exactly(self) -> None:
        encoded = "https://h/p?a=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B&b=%20%3D%26%3a%253A"
        assert decode_uri_for_v3(encoded) == "https://h/p?a=:/?@!$'()*,;&b=%20%3D%26%3a%253A"

    def test_v3_over_percent_encoded_uri(self) -> None:
        encoded = "https://sync.naturhome.be/webhooks/hubspot?source=workflow%3Aquote&t=a%2Cb%20c"
        decoded = "https://sync.naturhome.be/webhooks/hubspot?source=workflow:quote&t=a,b%20c"
        ts = "1700000000000"
        signature = signature_v3(SECRET, "POST", decoded, PHP_BODY, ts)
        assert verify(v3_headers(signature, ts), uri=encoded, body=PHP_BODY, now_ms=int(ts))[0]

    def test_v2_over_percent_encoded_uri_is_not_decoded(self) -> None:
        encoded = "https://sync.naturhome.be/webhooks/hubspot?source=workflow%3Aquote"
        signature = signature_v2(SECRET, "POST", encoded, PHP_BODY)
        headers = legacy_headers(signature, "v2")
        assert verify(headers, uri=encoded, body=PHP_BODY)[0]
        assert not verify(headers, uri=decode_uri_for_v3(encoded), body=PHP_BODY)[0]

    def test_public_uri_behind_a_reverse_proxy(self) -> None:
        """HubSpot signed the public URL; our process sees another host and no prefix."""
        public = "https://sync.naturhome.be/hooks/webhooks/hubspot?tag=a%2Cb&x=1"
        ts = "1700000000000"
        signature = signature_v3(SECRET, "POST", public, PHP_BODY, ts)
        rebuilt = public_request_uri(
            "https://sync.naturhome.be/hooks/", b"/webhooks/hubspot", b"tag=a%2Cb&x=1"
        )
        assert rebuilt == public
        internal = "http://10.0.0.5:8080/webhooks/hubspot?tag=a%2Cb&x=1"
        headers = v3_headers(signature, ts)
        assert verify(headers, uri=rebuilt, body=PHP_BODY, now_ms=int(ts))[0]
        assert not verify(headers, uri=internal, body=PHP_BODY, now_ms=int(ts))[0]

    def test_public_uri_without_query(self) -> None:
        assert public_request_uri("https://h", "webhooks/hubspot", "") == (
            "https://h/webhooks/hubspot"
        )
