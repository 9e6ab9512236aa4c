"""Every transform of the mapping engine, against what the public really types."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from naturhome_sync.mapping import countries, dates, numbers, phones, text
from naturhome_sync.mapping.common import Rejected, fold, is_blank
from naturhome_sync.mapping.transforms import TRANSFORMS, StepContext
from naturhome_sync.sfschema.model import FieldDef


def run_step(
    name: str,
    value: Any,
    params: dict[str, Any] | None = None,
    *,
    source: dict[str, Any] | None = None,
    field: FieldDef | None = None,
) -> tuple[Any, list[str]]:
    """Run a registered transform as the engine does; returns (value, warnings)."""
    warnings: list[str] = []
    ctx = StepContext(
        source=source or {},
        field=field or FieldDef(name="X__c", label="X", type="Text", length=255),
        warn=warnings.append,
    )
    return TRANSFORMS[name].build(params or {})(value, ctx), warnings


# --- blanks and folding -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "blank"),
    [(None, True), ("", True), ("   ", True), ("\u00a0\u202f", True), ("0", False), (0, False)],
)
def test_is_blank(value: Any, blank: bool) -> None:
    assert is_blank(value) is blank


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Nouvelle  Construction", "nouvelle construction"),
        ("Rénovation", "RENOVATION"),
        ("Straße", "strasse"),
        ("new-build", "New build"),
    ],
)
def test_fold_ignores_case_accents_and_spacing(left: str, right: str) -> None:
    assert fold(left) == fold(right)


# --- text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "trimmed", "collapsed"),
    [
        ("  Gouvy ", "Gouvy", "Gouvy"),
        ("\u00a0Rue  de la\tGare\r\n12\u202f", "Rue  de la\tGare\n12", "Rue de la Gare 12"),
        (
            "\u200b Bonjour,\n\nNous aimerions… \n",
            "Bonjour,\n\nNous aimerions…",
            "Bonjour, Nous aimerions…",
        ),
        ("a\u200bb", "ab", "ab"),
    ],
)
def test_trim_and_collapse_spaces(raw: str, trimmed: str, collapsed: str) -> None:
    assert text.trim(raw) == trimmed
    assert text.collapse_spaces(raw) == collapsed


def test_lower_and_upper() -> None:
    assert run_step("lower", "ÉTÉ")[0] == "été"
    assert run_step("upper", "l-9912")[0] == "L-9912"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jean-PIERRE van den berg", "Jean-Pierre van den Berg"),
        ("van den berg", "Van den Berg"),
        ("DE SMET", "De Smet"),
        ("dupont", "Dupont"),
        ("o'brien", "O'Brien"),
        ("jean d'ormesson", "Jean d'Ormesson"),
        ("ursula VON DER LEYEN", "Ursula von der Leyen"),
        ("marie le pen", "Marie Le Pen"),
        ("McDonald", "McDonald"),
        ("MÜLLER", "Müller"),
        ("STRAßE", "Straße"),
        ("louvain-la-neuve", "Louvain-la-Neuve"),
        ("BRAINE-L'ALLEUD", "Braine-l'Alleud"),
        ("la roche-en-ardenne", "La Roche-en-Ardenne"),
        ("GOUVY", "Gouvy"),
        ("  jean   dupont ", "Jean Dupont"),
        ("d\u2019hondt", "D\u2019Hondt"),
    ],
)
def test_title_is_name_aware(raw: str, expected: str) -> None:
    assert text.title(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Jean.Dupont@Gmail.COM ", "jean.dupont@gmail.com"),
        ("mailto:marie@naturhome.lu", "marie@naturhome.lu"),
        ("<pol.peeters@telenet.be>", "pol.peeters@telenet.be"),
        ("anne+devis@example.co.uk", "anne+devis@example.co.uk"),
    ],
)
def test_email_normalised(raw: str, expected: str) -> None:
    assert text.email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "jean.dupont",
        "jean@gmail",
        "jean @gmail.com",
        "jean@@gmail.com",
        "@gmail.com",
        "a@b.c",
        "jean..dupont@gmail.com",
        "jean@-gmail.com",
    ],
)
def test_email_rejects_obviously_invalid(raw: str) -> None:
    with pytest.raises(Rejected, match="adresse e-mail invalide"):
        text.email(raw)


# --- countries ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("Belgique", "BE"),
        ("BELGIË", "BE"),
        ("belgien", "BE"),
        ("Belgium", "BE"),
        ("be", "BE"),
        ("Luxembourg", "LU"),
        ("lux", "LU"),
        ("Luxemburg", "LU"),
        ("Lëtzebuerg", "LU"),
        ("Grand-Duché de Luxembourg", "LU"),
        ("G.-D. Luxembourg", "LU"),
        ("France", "FR"),
        ("Frankrijk", "FR"),
        ("Deutschland", "DE"),
        ("Allemagne", "DE"),
        ("Duitsland", "DE"),
        ("Pays-Bas", "NL"),
        ("Nederland", "NL"),
        (" U.S.A. ", "US"),
    ],
)
def test_country_code(raw: str, code: str) -> None:
    assert countries.country_code(raw) == code


@pytest.mark.parametrize("raw", ["Atlantis", "Ardennes", "B-6670"])
def test_country_code_rejects_unknown(raw: str) -> None:
    with pytest.raises(Rejected, match="pays inconnu"):
        countries.country_code(raw)


def test_country_code_transform_can_keep_unknown_text() -> None:
    assert run_step("country_code", "Suisse")[0] == "CH"
    assert run_step("country_code", " Atlantis  du Nord", {"unknown": "keep"})[0] == (
        "Atlantis du Nord"
    )
    with pytest.raises(Rejected):
        run_step("country_code", "Atlantis")


# --- phones -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "regions", "expected"),
    [
        ("0475 12 34 56", ["BE"], "+32475123456"),
        ("+352 621 123 456", ["BE"], "+352621123456"),
        ("00352 621 123 456", ["BE"], "+352621123456"),
        ("621 123 456", ["LU"], "+352621123456"),
        ("+32 (0)475 12 34 56", ["BE"], "+32475123456"),
        ("0475/12.34.56", ["BE"], "+32475123456"),
        ("06 12 34 56 78", ["FR"], "+33612345678"),
        ("0151 12345678", ["DE"], "+4915112345678"),
        # a Belgian mobile given by someone living in Luxembourg: LU reading fails, BE works
        ("0475 12 34 56", ["LU", "BE"], "+32475123456"),
    ],
)
def test_phone_e164(raw: str, regions: list[str], expected: str) -> None:
    assert phones.phone_e164(raw, regions=regions) == expected


@pytest.mark.parametrize("raw", ["abc", "123", "0475 12", "080 12 34 56"])
def test_phone_e164_rejects_invalid(raw: str) -> None:
    with pytest.raises(Rejected, match="numéro de téléphone invalide"):
        phones.phone_e164(raw, regions=["BE", "LU"])


def test_phone_transform_reads_region_from_another_source_field() -> None:
    params = {"default_region_from": "country", "default_region": "BE"}
    value, _ = run_step("phone_e164", "621 123 456", params, source={"country": "Luxembourg"})
    assert value == "+352621123456"
    # without the country the same digits are not a valid Belgian number
    with pytest.raises(Rejected):
        run_step("phone_e164", "621 123 456", params, source={"country": ""})
    # an unknown country falls back to the default region instead of failing
    value, _ = run_step("phone_e164", "0475 12 34 56", params, source={"country": "Atlantis"})
    assert value == "+32475123456"


def test_phone_transform_tries_fallback_regions_in_order() -> None:
    params = {"default_region": "LU", "fallback_regions": ["BE", "FR"]}
    assert run_step("phone_e164", "0475 12 34 56", params)[0] == "+32475123456"
    assert run_step("phone_e164", "06 12 34 56 78", params)[0] == "+33612345678"


# --- money and numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("250 000 €", "250000.00"),
        ("250\u202f000\u00a0€", "250000.00"),
        ("250.000,00 EUR", "250000.00"),
        ("250.000,00", "250000.00"),
        ("250,000.50", "250000.50"),
        ("250.000", "250000.00"),
        ("250,000", "250000.00"),
        ("1.250.000", "1250000.00"),
        ("250000", "250000.00"),
        ("250000,5", "250000.50"),
        ("250 000,50 €", "250000.50"),
        ("250'000", "250000.00"),
        ("€250k", "250000.00"),
        ("250K EUR", "250000.00"),
        ("1,5k", "1500.00"),
        ("1,2 mio", "1200000.00"),
        ("1.2M", "1200000.00"),
        ("environ 300.000 € TVAC", "300000.00"),
        ("max. 400k€", "400000.00"),
        ("Budget : 350 000 euros", "350000.00"),
        ("250.000,-", "250000.00"),
        ("tot 300 000", "300000.00"),
        ("12,345", "12345.00"),
        ("0,125", "0.13"),  # one decimal separator after "0": a fraction, rounded half-up
        ("0", "0.00"),
    ],
)
def test_money(raw: str, expected: str) -> None:
    result = numbers.money(raw)
    assert isinstance(result, Decimal)
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("-5000", "valeur négative"),
        ("(5000)", "valeur négative"),
        ("250-300k", "fourchette"),
        ("250 000 à 300 000", "fourchette"),
        ("250 tot 300 duizend", "fourchette"),
        ("250/300k", "fourchette"),
        ("2 50 000", "chiffres mal groupés"),
        ("1,250k", "séparateur ambigu"),
        ("250,0000", "séparateur ambigu"),
        ("1.250.000,00.5", "séparateurs incohérents"),
        ("beaucoup", "texte inattendu"),
        ("pas encore défini", "texte inattendu"),
        ("300 000 $", "devise non gérée"),
        ("250'000 CHF", "devise non gérée"),
        ("£200k", "devise non gérée"),
        ("1" * 19, "trop de chiffres"),
        ("1" * 16 + " mio", "trop de chiffres"),
    ],
)
def test_money_refuses_ambiguous_or_negative(raw: str, reason: str) -> None:
    with pytest.raises(Rejected, match=reason):
        numbers.money(raw)


@pytest.mark.parametrize(
    ("raw", "as_number", "as_integer"),
    [
        ("180 m²", "180", "180"),
        ("180m2", "180", "180"),
        ("180 M2", "180", "180"),
        ("180,5 m²", "180.5", "181"),
        ("180.4", "180.4", "180"),
        ("env. 1.250,5 m2", "1250.5", "1251"),
        ("1.200", "1200", "1200"),
        ("150 mètres carrés", "150", "150"),
        ("200 qm", "200", "200"),
        ("95 sqm", "95", "95"),
    ],
)
def test_number_and_integer_with_units(raw: str, as_number: str, as_integer: str) -> None:
    assert numbers.number(raw) == Decimal(as_number)
    assert numbers.integer(raw) == Decimal(as_integer)
    assert numbers.integer(raw).as_tuple().exponent == 0


@pytest.mark.parametrize("raw", ["-20", "120-150 m²", "grande", "100 €"])
def test_number_rejects(raw: str) -> None:
    with pytest.raises(Rejected, match="nombre illisible"):
        numbers.number(raw)


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2027-03-15", date(2027, 3, 15)),
        ("2027-03", date(2027, 3, 1)),
        ("2027/3", date(2027, 3, 1)),
        ("03/2027", date(2027, 3, 1)),
        ("3.2027", date(2027, 3, 1)),
        ("15/03/2027", date(2027, 3, 15)),
        ("15.03.2027", date(2027, 3, 15)),
        ("15-03-2027", date(2027, 3, 15)),
        ("5/3/27", date(2027, 3, 5)),
        ("20270315", date(2027, 3, 15)),
        ("2027-03-15T22:30:00Z", date(2027, 3, 15)),
        ("mars 2027", date(2027, 3, 1)),
        ("Mars 2027", date(2027, 3, 1)),
        ("März 2027", date(2027, 3, 1)),
        ("maart 2027", date(2027, 3, 1)),
        ("March 2027", date(2027, 3, 1)),
        ("sept. 2027", date(2027, 9, 1)),
        ("1er septembre 2027", date(2027, 9, 1)),
        ("15 août 2027", date(2027, 8, 15)),
        ("1799712000000", date(2027, 1, 12)),  # HubSpot date picker: midnight UTC, epoch ms
        (1799712000000, date(2027, 1, 12)),
        (date(2027, 1, 2), date(2027, 1, 2)),
    ],
)
def test_parse_date(raw: Any, expected: date) -> None:
    assert dates.parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("31/02/2027", "date impossible"),
        ("2027-13", "date impossible"),
        ("2027", "date illisible"),
        ("03/27", "date illisible"),
        ("au plus vite", "date illisible"),
        ("printemps 2027", "date illisible"),
        ("15/03/1850", "date improbable"),
    ],
)
def test_parse_date_rejects(raw: str, reason: str) -> None:
    with pytest.raises(Rejected, match=reason):
        dates.parse_date(raw)


def test_epoch_dates_follow_the_time_zone() -> None:
    # 2025-12-31 23:30 UTC is already 2026-01-01 in Brussels
    instant = 1767223800000
    assert dates.parse_date(instant) == date(2025, 12, 31)
    assert dates.parse_date(instant, timezone="Europe/Brussels") == date(2026, 1, 1)
    assert dates.submission_date(instant) == date(2026, 1, 1)
    assert dates.submission_date(str(instant)) == date(2026, 1, 1)
    assert dates.submission_date("2025-12-31T23:30:00Z") == date(2026, 1, 1)
    with pytest.raises(Rejected):
        dates.submission_date("yesterday")


def test_default_date_offset_fills_blank_from_submission() -> None:
    params = {"from": "submitted_at", "days": 90}
    source = {"submitted_at": 1767223800000}  # 1 January 2026 in Brussels
    assert run_step("default_date_offset", None, params, source=source)[0] == date(2026, 4, 1)
    # a value already there is kept
    kept = date(2026, 6, 30)
    assert run_step("default_date_offset", kept, params, source=source)[0] == kept
    with pytest.raises(Rejected, match="submitted_at"):
        run_step("default_date_offset", None, params, source={})


# --- truncate -----------------------------------------------------------------------------


def test_truncate_to_field_cuts_with_a_warning() -> None:
    field = FieldDef(name="BillingCity", label="Ville", type="Text", length=10)
    value, warnings = run_step("truncate_to_field", "Saint-Hubert-sur-Lomme", field=field)
    assert value == "Saint-Hub…"
    assert len(value) == 10
    assert warnings == ["texte coupé à 10 caractères (il en comptait 22)"]
    value, warnings = run_step("truncate_to_field", "Gouvy", field=field)
    assert (value, warnings) == ("Gouvy", [])
    textarea = FieldDef(name="BillingStreet", label="Rue", type="TextArea")
    assert len(run_step("truncate_to_field", "x" * 300, field=textarea)[0]) == 255
