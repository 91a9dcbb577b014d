"""Configuration: TOML file plus environment, *_FILE secrets, and one clear line for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbot.cli import main
from mailbot.config import load_settings
from mailbot.errors import ConfigError


def test_with_no_configuration_the_database_is_sqlite_in_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).database_url == "sqlite:///mailbot.db"


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "mailbot.toml"
    cfg.write_text('database_url = "sqlite:///from-file.db"\ntimezone = "Europe/Vienna"\n')
    s = load_settings(cfg, env={"MAILBOT_DATABASE_URL": "sqlite:///from-env.db"})
    assert s.database_url == "sqlite:///from-env.db" and s.timezone == "Europe/Vienna"


def test_passwords_come_from_file_variables(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    s = load_settings(env={"MAILBOT_MAILBOX_URL": "imaps://user@imap.example/INBOX",
                           "MAILBOT_MAILBOX_PASSWORD_FILE": str(secret)})
    assert s.imap().password == "s3cret" and s.imap().tls == "implicit"


@pytest.mark.parametrize(("env", "words"), [
    ({"MAILBOT_MAILBOX_URL": "pop3://x@host/INBOX"}, "unknown URL scheme"),
    ({"MAILBOT_MAILBOX_URL": "imaps://x@host:99999/INBOX"}, "(?i)port"),
    ({"MAILBOT_MAILBOX_URL": "imaps://x@host/INBOX"}, "needs a password"),
    ({"MAILBOT_SMTP_URL": "smtps://user@host"}, "no password"),
    ({"MAILBOT_SMTP_URL": "gopher://host"}, "unknown URL scheme"),
    ({"MAILBOT_TIMEZONE": "Mars/Olympus"}, "unknown time zone"),
    ({"MAILBOT_REPLY_LIMIT_PER_DAY": "many"}, "not a number"),
    ({"MAILBOT_DIGEST_TIME": "halb acht"}, "not a time"),
    ({"MAILBOT_INTAKE_BATCH": "0"}, "INTAKE_BATCH: 0 must be between 1 and 5000"),
    ({"MAILBOT_INTAKE_BATCH": "lots"}, "INTAKE_BATCH: 'lots' is not a number"),
    ({"MAILBOT_SMTP_CONNECTIONS": "0"}, "SMTP_CONNECTIONS: 0 must be between 1 and 16"),
    ({"MAILBOT_SMTP_CONNECTIONS": "17"}, "SMTP_CONNECTIONS: 17 must be between 1 and 16"),
    ({"MAILBOT_RULES_DIR": "/nonexistent/rules"}, "does not exist"),
    ({"MAILBOT_MAILBOX_PASSWORD_FILE": "/nonexistent/pw"}, "cannot read"),
])
def test_a_wrong_value_is_one_clear_message(env: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load_settings(env=env)


def test_the_command_prints_one_line_and_exits_1_on_a_config_error(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILBOT_MAILBOX_URL", "pop3://x@host/INBOX")
    assert main(["run", "--once"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown URL scheme" in err[0] and "Traceback" not in err[0]


def test_a_password_in_a_bad_url_is_not_repeated_in_the_message() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(env={"MAILBOT_SMTP_URL": "smtps://user:topsecret@host:notaport"})
    assert "topsecret" not in str(exc.value)


def test_a_broken_events_file_names_the_event(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "events.toml"
    f.write_text('[[event]]\nslug = "a"\ntitle = "A"\nstarts = 2027-02-25T14:00:00\n')
    assert main(["--config", str(_cfg(tmp_path, tmp_path / "db.sqlite")),
                 "events", "import", str(f)]) == 1
    err = capsys.readouterr().err
    assert "event 1" in err and "UTC offset" in err and len(err.strip().splitlines()) == 1


def _cfg(tmp_path: Path, db: Path) -> Path:
    c = tmp_path / "mailbot.toml"
    c.write_text(f'database_url = "sqlite:///{db}"\n')
    return c


def test_a_broken_rule_file_stops_the_worker_with_its_file_and_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from mailbot.config import default_rules_dir

    rules = tmp_path / "rules"
    rules.mkdir()
    for f in default_rules_dir().glob("*.toml"):
        (rules / f.name).write_bytes(f.read_bytes())
    broken = sorted(rules.glob("*.toml"))[0]
    broken.write_text(broken.read_text(encoding="utf-8") + "\n[oops\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAILBOT_RULES_DIR", str(rules))
    monkeypatch.setenv("MAILBOT_MAILBOX_URL", f"maildir://{tmp_path}/inbox")
    monkeypatch.setenv("MAILBOT_SMTP_URL", f"file://{tmp_path}/sent")
    monkeypatch.setenv("MAILBOT_DATABASE_URL", f"sqlite:///{tmp_path}/m.db")
    assert main(["run", "--once"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and broken.name in err[0] and "line" in err[0], err


def test_the_from_address_is_read_once_and_a_changed_copy_reads_its_own() -> None:
    """Every reply and every mail taken in asks for it: parsed once per Settings."""
    from dataclasses import replace

    s = load_settings(None, env={"MAILBOT_FROM": "Anmeldung <anmeldung@mitgen.example>"})
    assert s.from_address is s.from_address
    assert (s.from_address.display_name, s.own_domain) == ("Anmeldung", "mitgen.example")
    other = replace(s, from_addr="info@verein.example")
    assert (other.from_address.addr_spec, other.own_domain) == (
        "info@verein.example", "verein.example")
    assert s.own_domain == "mitgen.example"
