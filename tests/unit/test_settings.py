from __future__ import annotations

from pathlib import Path

import pytest

from naturhome_sync.errors import ConfigurationError
from naturhome_sync.settings import load_settings, redacted


def test_defaults_are_a_local_sqlite_store_under_the_state_dir(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'naturhome.db'}"
    assert settings.http.host == "127.0.0.1"
    assert settings.worker.count == 1
    assert settings.schedules_file.name == "schedules.yaml"
    assert (settings.salesforce_dir).name == "salesforce"


def test_nested_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NATURHOME_WORKER__COUNT", "4")
    monkeypatch.setenv("NATURHOME_DATABASE__URL", "postgresql://svc@db/naturhome")
    monkeypatch.setenv("NATURHOME_SCHEDULES__HOUSEKEEPING", "every 1h")
    settings = load_settings()
    assert settings.worker.count == 4
    assert settings.database_url == "postgresql://svc@db/naturhome"
    assert settings.schedules == {"housekeeping": "every 1h"}


def test_env_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / "prod.env"
    env.write_text("NATURHOME_HTTP__PORT=9090\nNATURHOME_ENVIRONMENT=production\n")
    settings = load_settings(env)
    assert settings.http.port == 9090
    assert settings.environment == "production"


def test_missing_env_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="nope.env: file not found"):
        load_settings(tmp_path / "nope.env")


def test_invalid_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NATURHOME_WORKER__COUNT", "0")
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    assert str(info.value).startswith("NATURHOME_WORKER__COUNT: ")
    assert "greater than or equal to 1" in str(info.value)
    assert info.value.key == "NATURHOME_WORKER__COUNT"


def test_unknown_setting_in_env_file_is_refused(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("NATURHOME_WROKER__COUNT=2\n")
    with pytest.raises(ConfigurationError, match="NATURHOME_WROKER__COUNT: unknown setting"):
        load_settings(env)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="NATURHOME_TIMEZONE: .*unknown time zone"):
        load_settings(timezone="Europe/Gouvy")


def test_redacted_hides_passwords_in_urls_and_secret_fields() -> None:
    settings = load_settings(database={"url": "postgresql://svc:hunter2@db/naturhome"})
    shown = redacted(settings)
    assert shown["database"]["url"] == "postgresql://svc:**********@db/naturhome"
    assert "hunter2" not in repr(shown)
