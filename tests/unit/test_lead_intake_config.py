"""The lead intake's configuration (checked at start-up), file keys and warnings, owner cache."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from connectors.hubspot_errors import (
    HubSpotFileTooLargeError,
    HubSpotFileUnavailableError,
    HubSpotFileUrlError,
    HubSpotNotFoundError,
)
from connectors.hubspot_models import Submission
from jobs.lead_intake import OwnerCache
from jobs.lead_intake_config import (
    IntakeSetup,
    check_intake_config,
    load_intake_config,
    load_setup,
)
from jobs.lead_intake_files import FileLink, download_warning, file_links
from jobs.lead_intake_plan import merge_warnings
from naturhome_sync.errors import (
    AuthError,
    ConfigurationError,
    PermanentConfigError,
)
from naturhome_sync.mapping import load_mappings
from naturhome_sync.paths import shipped_dir
from naturhome_sync.runtime import Runtime, build_registry
from naturhome_sync.settings import load_settings
from naturhome_sync.sfschema import load_schema

SUBMITTED_AT = 1_768_209_300_000  # 12 January 2026, 10:15 in Brussels
LINK = (
    "https://api.hubapi.com/form-integrations/v1/uploaded-files/signed-url-redirect/4711"
    "?portalId=1&sign=abc&conversionId=conv-1&filename=plan%20RDC.pdf"
)
GOOD_CONFIG = """
version: 1
mapping: hubspot_quote_request
default_owner: thomas.renard@naturhome.example
owner_rules:
  - name: Allemagne
    site_countries: [DE]
    owner: sophie.weber@naturhome.example
  - name: Rénovations près de Gouvy
    site_countries: [BE]
    postal_codes: ["6600-6999", "4700"]
    project_types: [Renovation]
    owner: nobody@naturhome.example
task:
  subject: Demande reçue
files:
  max_bytes: 1000
  graph_max_bytes: 100
"""


@pytest.fixture(scope="module")
def setup() -> IntakeSetup:
    return load_setup(
        config_dir=shipped_dir("config"),
        mappings_dir=shipped_dir("mappings"),
        salesforce_dir=shipped_dir("salesforce"),
        default_max_file_bytes=25 * 1024 * 1024,
    )


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lead_intake.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load_config(tmp_path: Path, text: str) -> Any:
    schema = load_schema()
    return load_intake_config(
        write_config(tmp_path, text), schema, load_mappings(shipped_dir("mappings"), schema), 5000
    )


def submission(contact_id: str | None = "1001", **values: str) -> Submission:
    form = {
        "email": "Claire.Dupont@example.be",
        "firstname": "Claire",
        "lastname": "Dupont",
        "zip": "6670",
        "city": "Gouvy",
        "country": "BE",
        "site_postal_code": "6670",
        "site_city": "Gouvy",
        "site_country": "BE",
        "project_type": "Nouvelle construction",
        "budget": "450000",
        "living_area_m2": "180",
        "desired_start": "2026-08",
        "plans": LINK,
    }
    form.update(values)
    return Submission(
        conversion_id="conv-1",
        submitted_at=SUBMITTED_AT,
        values={k: v for k, v in form.items() if v},
        page_url=None,
        form_guid="form-1",
        contact_id=contact_id,
    )


# -- configuration ------------------------------------------------------------------------------


def test_shipped_configuration(setup: IntakeSetup) -> None:
    config = setup.config
    assert config.default_owner == "thomas.renard@naturhome.example"
    assert config.owner_rules == ()
    assert config.task_subject == "Demande de devis reçue via HubSpot"
    assert config.max_file_bytes == 25 * 1024 * 1024  # from the HubSpot settings
    assert config.graph_max_bytes == 20 * 1024 * 1024
    assert setup.mapping.name == "hubspot_quote_request"


def test_owner_rules_first_match_wins(tmp_path: Path) -> None:
    config = load_config(tmp_path, GOOD_CONFIG)
    assert config.max_file_bytes == 1000 and config.graph_max_bytes == 100
    assert config.task_subject == "Demande reçue"
    german = {"Site_Country__c": "DE", "Project_Type__c": "Renovation"}
    assert config.owner_for(german) == ("sophie.weber@naturhome.example", "Allemagne")
    gouvy = {
        "Site_Country__c": "BE",
        "Site_Postal_Code__c": "B-6670",
        "Project_Type__c": "Renovation",
    }
    assert config.owner_for(gouvy)[0] == "nobody@naturhome.example"
    assert config.owner_for({**gouvy, "Site_Postal_Code__c": "4700"})[1] is not None
    assert config.owner_for({**gouvy, "Project_Type__c": "New build"})[1] is None
    assert config.owner_for({**gouvy, "Site_Postal_Code__c": "5000"})[1] is None
    assert config.owner_for({**gouvy, "Site_Postal_Code__c": None})[1] is None
    assert config.owner_for({}) == ("thomas.renard@naturhome.example", None)


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        (("version: 1", "version: 2"), "version", "expected version: 1"),
        (("mapping: hubspot_quote_request", "mapping: hubspot"), "mapping", "'hubspot' is not"),
        (("default_owner: thomas", "default_owner: thomas #"), "default_owner", "username"),
        (
            ("site_countries: [DE]", "site_countries: [XX]"),
            "owner_rules[0].site_countries[0]",
            "XX",
        ),
        (('"6600-6999"', '"6999-6600"'), "owner_rules[1].postal_codes[0]", "starts above"),
        (('"4700"]', '"47a0"]'), "owner_rules[1].postal_codes[1]", "expected"),
        (("[Renovation]", "[Villa]"), "owner_rules[1].project_types[0]", "Villa"),
        (("    owner: sophie", "    boss: sophie"), "owner_rules[0].boss", "unknown key"),
        (("  subject: Demande reçue", "  subject: ''"), "task.subject", "1 to 255"),
        (("  max_bytes: 1000", "  max_bytes: 0"), "files.max_bytes", "positive"),
        (("files:", "extra: 1\nfiles:"), "extra", "unknown key"),
    ],
)
def test_configuration_problems_name_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], key: str, message: str
) -> None:
    old, new = change
    assert old in GOOD_CONFIG
    path = write_config(tmp_path, GOOD_CONFIG.replace(old, new, 1))
    schema = load_schema()
    problems = check_intake_config(path, schema, load_mappings(shipped_dir("mappings"), schema), 1)
    assert problems[0].key == key  # the first problem is the one start-up reports
    assert message in problems[0].message
    with pytest.raises(ConfigurationError) as raised:
        load_config(tmp_path, GOOD_CONFIG.replace(old, new, 1))
    assert str(raised.value).startswith(f"{path}: {key}: ")


def test_a_rule_without_conditions_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"owner_rules\[0\]: a rule needs at least one"):
        load_config(
            tmp_path,
            GOOD_CONFIG.replace("    site_countries: [DE]\n", ""),
        )


def test_a_broken_configuration_stops_start_up(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    shutil.copytree(shipped_dir("config"), config_dir)
    settings = load_settings(state_dir=tmp_path / "state", config_dir=config_dir)
    assert "lead_intake" in build_registry(settings)  # registered without Salesforce/HubSpot
    (config_dir / "lead_intake.yaml").write_text(GOOD_CONFIG.replace("[DE]", "[Mars]"))
    with pytest.raises(ConfigurationError, match=r"lead_intake.yaml: owner_rules\[0\]"):
        build_registry(settings)
    (config_dir / "lead_intake.yaml").unlink()
    with pytest.raises(ConfigurationError, match="lead_intake.yaml: file not found"):
        build_registry(settings)


def test_the_flow_needs_salesforce_and_hubspot(tmp_path: Path) -> None:
    runtime = Runtime(load_settings(state_dir=tmp_path / "state"))
    try:
        runtime.upgrade()
        flow = runtime.registry.get("lead_intake")
        assert flow is not None
        with pytest.raises(PermanentConfigError, match="needs Salesforce and HubSpot"):
            runtime.dry_run("lead_intake", payload={})
    finally:
        runtime.close()


# -- files ----------------------------------------------------------------------------------------


def test_file_links_carry_a_stable_key_per_submission_and_file() -> None:
    other = "https://elsewhere.example/plan.pdf"
    sub = submission(plans=f"{LINK}; {LINK} ;{other}")
    links = file_links(sub)
    assert [link.key for link in links] == [
        "hubspot-file:conv-1:4711",
        f"hubspot-file:conv-1:{links[1].key.rsplit(':', 1)[1]}",
    ]
    assert len(links[1].key.rsplit(":", 1)[1]) == 24  # a hash: not a HubSpot link
    assert [link.name for link in links] == ["plan RDC.pdf", links[1].key.rsplit(":", 1)[1]]
    other_submission = Submission(
        conversion_id="conv-2",
        submitted_at=SUBMITTED_AT,
        values={"plans": LINK},
        page_url=None,
        form_guid="form-1",
    )
    assert file_links(other_submission)[0].key == "hubspot-file:conv-2:4711"
    assert file_links(submission(plans="")) == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (HubSpotFileTooLargeError("big"), "trop volumineux (limite 2,5 Mo)"),
        (
            HubSpotFileUrlError("foreign"),
            "lien refusé, ce n'est pas un fichier déposé dans le formulaire HubSpot",
        ),
        (HubSpotNotFoundError("gone"), "introuvable dans HubSpot"),
        (
            HubSpotFileUnavailableError("down", code="FILE_UNREACHABLE"),
            "indisponible pour le moment (FILE_UNREACHABLE) ; rejouer la demande le joindra",
        ),
        (
            AuthError("token", code="INVALID_AUTHENTICATION"),
            "refusé par HubSpot (INVALID_AUTHENTICATION)",
        ),
    ],
)
def test_download_warnings_tell_the_rep_what_happened(error: Any, expected: str) -> None:
    link = FileLink(LINK, "k", "plan.pdf")
    warning = download_warning(link, error, max_bytes=int(2.5 * 1024 * 1024))
    if isinstance(error, HubSpotFileUrlError):
        assert warning == f"Fichier « plan.pdf » non joint : {expected} ({LINK})"
    else:
        assert warning == f"Fichier « plan.pdf » non joint : {expected}"


def test_a_transient_failure_announces_the_automatic_retry() -> None:
    link = FileLink(LINK, "k", "plan.pdf")
    error = HubSpotFileUnavailableError("down", code="FILE_UNREACHABLE")
    assert download_warning(link, error, 1024, retry_in_minutes=20) == (
        "Fichier « plan.pdf » non joint : indisponible pour le moment (FILE_UNREACHABLE) ; "
        "nouvel essai automatique dans 20 min"
    )
    too_large = download_warning(link, HubSpotFileTooLargeError("big"), 1024, retry_in_minutes=20)
    assert "essai" not in too_large  # only a transient failure is retried


def test_merge_warnings_replaces_lines_about_files_whose_fate_is_known() -> None:
    existing = "Budget (budget) : illisible\nFichier « a.pdf » non joint : indisponible\n"
    merged = merge_warnings(existing, ["Fichier « b.pdf » non joint : trop volumineux"], ["a.pdf"])
    assert merged == "Budget (budget) : illisible\nFichier « b.pdf » non joint : trop volumineux"
    assert merge_warnings(merged, ["Budget (budget) : illisible"], []) == merged
    assert merge_warnings(None, [], []) == ""
    long = merge_warnings(None, ["x" * 40_000], [])
    assert len(long) == 32_000 and long.endswith("…")


def test_owner_cache_forgets_after_its_lifetime() -> None:
    now = [0.0]
    cache = OwnerCache(ttl_s=10, clock=lambda: now[0])
    assert cache.missing(["A@x", "b@x"]) == ["A@x", "b@x"]
    assert cache.add({"a@x": "005A"}) == {"a@x": "005A"}
    assert cache.missing(["A@x", "b@x"]) == ["b@x"]
    now[0] = 11
    assert cache.missing(["A@x"]) == ["A@x"]
    assert cache.add({}) == {}
