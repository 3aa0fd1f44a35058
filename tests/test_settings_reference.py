"""docs/settings.md is what the settings tree renders now, every setting has a
description, and the environment variables it names are the ones Settings reads."""

import pytest
from pydantic import BaseModel, Field

from assistant import settings_reference
from assistant.settings import Settings
from assistant.settings_reference import COMMAND, DOC, render, sections, undescribed


def test_docs_settings_md_is_up_to_date():
    current = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
    if current != render():
        pytest.fail(f"docs/settings.md is not what assistant/settings.py renders; regenerate it with `{COMMAND}`",
                    pytrace=False)


def test_check_flag_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "settings.md"
    stale.write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(settings_reference, "DOC", stale)
    monkeypatch.setattr(settings_reference, "PROJECT_ROOT", tmp_path)
    assert settings_reference.main(["--check"]) == 1
    assert COMMAND in capsys.readouterr().err
    assert settings_reference.main(["--write"]) == 0
    assert settings_reference.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == render()


def test_every_setting_has_a_description():
    missing = undescribed()
    assert not missing, f"settings without a description in assistant/settings.py: {', '.join(missing)}"


def test_a_setting_without_a_description_is_found():
    class Extra(BaseModel):
        """A section added later."""

        described: int = Field(1, description="Says what it does.")
        bare: int = 2

    class Grown(Settings):
        extra: Extra = Extra()

    assert undescribed(Grown) == ["extra.bare"]


def test_environment_variables_named_are_the_ones_read(tmp_path, monkeypatch):
    monkeypatch.delenv("ASSISTANT_CONFIG", raising=False)
    expected = {}
    for section in sections():
        for setting in section.settings:
            default = setting.field.get_default(call_default_factory=True)
            if isinstance(default, (int, float)) and not isinstance(default, bool):
                monkeypatch.setenv(setting.env_var, str(default + 1))
                expected[setting.path] = default + 1
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path))
    settings = Settings()
    assert len(expected) > 30
    for path, value in expected.items():
        read = settings
        for part in path:
            read = getattr(read, part)
        assert read == value, ".".join(path)
