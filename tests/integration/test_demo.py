"""`make demo` must keep telling a true story: every chapter checks its own outcome."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from naturhome_sync.cli import app

pytestmark = pytest.mark.slow


def test_demo_plays_every_chapter(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--keep", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "All steps passed" in result.stdout
    for chapter in ("1. The runtime", "2. The Salesforce org", "3. A quote request"):
        assert chapter in result.stdout
    assert "Salesforce API calls for this intake: 2" in result.stdout
    assert (tmp_path / "demo" / "sandbox.env").is_file()  # --keep keeps the state
