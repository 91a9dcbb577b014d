"""`mailbot demo` on a fresh folder: no servers, embedded defaults, mails written as files."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest

from mailbot.cli import main


def test_the_demo_handles_the_samples_and_writes_the_answers_as_eml_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAILBOT_DATABASE_URL", "sqlite:////nonexistent/ignored.db")
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "10 mail(s) handled" in out
    sent = sorted((tmp_path / "mailbot-demo" / "sent").glob("*.eml"))
    msgs = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sent]
    by_to = {}
    for m in msgs:
        by_to.setdefault(str(m["To"]), []).append(m)
    assert len(sent) >= 10
    assert not any("landkreis.example" in t or "verein.example" in t for t in by_to), \
        "the auto-reply and the bounce must get no answer"
    assert all(m["Auto-Submitted"] in ("auto-replied", "auto-generated") for m in msgs)
    assert any(part.get_content_type() == "text/calendar" for m in msgs for part in m.walk())
    assert "werkstatt-2027" in out and "Braucht Sie" in out  # events list and the digest
    assert (tmp_path / "mailbot-demo" / "mailbot.db").exists()


def test_the_demo_runs_again_in_its_own_folder_but_refuses_a_foreign_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    assert main(["demo"]) == 0
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("precious")
    capsys.readouterr()
    assert main(["demo", "--dir", "mine"]) == 1
    assert "not a mailbot demo folder" in capsys.readouterr().err
    assert (tmp_path / "mine" / "thesis.txt").exists()
