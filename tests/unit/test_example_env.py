"""config/example.env documents every setting, and its values (examples included) load."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from naturhome_sync.paths import shipped_dir
from naturhome_sync.settings import Settings, load_settings

LINE = re.compile(r"^# (NATURHOME_[A-Z0-9_]+)=(.*?)(?:\s{2,}(?:\(example.*|#.*))?$")


def documented() -> dict[str, str]:
    text = (shipped_dir("config") / "example.env").read_text(encoding="utf-8")
    found = {}
    for line in text.splitlines():
        match = LINE.match(line.rstrip())
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def setting_names(model: type[BaseModel], prefix: str = "NATURHOME_") -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        key = prefix + name.upper()
        annotation = field.annotation
        nested = [
            a
            for a in getattr(annotation, "__args__", (annotation,))
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if nested:
            names |= setting_names(nested[0], key + "__")
        elif name != "schedules":
            names.add(key)
    return names


def test_every_setting_is_documented_in_example_env() -> None:
    missing = sorted(setting_names(Settings) - set(documented()))
    assert missing == [], f"add these to config/example.env: {missing}"


def test_the_documented_values_load(tmp_path: Path) -> None:
    values = {k: v for k, v in documented().items() if v}
    values["NATURHOME_SALESFORCE__PRIVATE_KEY_FILE"] = str(tmp_path / "key.pem")
    env = tmp_path / "example.env"
    env.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    settings = load_settings(env)
    assert settings.salesforce is not None and settings.salesforce.auth == "jwt"
    assert settings.hubspot is not None and settings.hubspot.form_guids
    assert settings.schedules["housekeeping"] == "0 3 * * *"
    assert settings.database_url.startswith("postgresql://")
