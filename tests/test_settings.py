"""Where settings come from: arguments, ASSISTANT_ variables, config.toml."""

from assistant.settings import Settings


def test_config_file_of_the_given_home_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("ASSISTANT_HOME", raising=False)
    monkeypatch.delenv("ASSISTANT_CONFIG", raising=False)
    monkeypatch.delenv("ASSISTANT_SERVER__PORT", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text("[server]\nport = 9123\n", encoding="utf-8")
    assert Settings(home=home).server.port == 9123
    monkeypatch.setenv("ASSISTANT_SERVER__PORT", "9124")  # the environment wins over the file
    assert Settings(home=home).server.port == 9124
    assert Settings(home=tmp_path / "elsewhere").server.port == 9124


def test_config_file_of_assistant_home(tmp_path, monkeypatch):
    monkeypatch.delenv("ASSISTANT_CONFIG", raising=False)
    monkeypatch.delenv("ASSISTANT_SERVER__PORT", raising=False)
    (tmp_path / "config.toml").write_text("[server]\nport = 9125\n", encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path))
    assert Settings().server.port == 9125
