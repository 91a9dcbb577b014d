"""ImapMailbox against a real Dovecot on loopback."""

from __future__ import annotations

import logging
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailbot.errors import MailboxError
from mailbot.mailbox import open_mailbox
from mailbot.mailbox.imap import ImapMailbox
from mailbot.types import Outcome
from tests.servers import Dovecot, running_dovecot

pytestmark = pytest.mark.dovecot


def mail(n: int, message_id: str | None = None) -> bytes:
    mid = message_id or f"msg-{n}@test.example"
    return (f"From: Person {n} <p{n}@test.example>\r\nTo: anmeldung@test.example\r\n"
            f"Subject: Anmeldung {n}\r\nMessage-ID: <{mid}>\r\n\r\nIch melde mich an. {n}\r\n"
            ).encode()


def open_imap(server: Dovecot, **kwargs: Any) -> ImapMailbox:
    kwargs.setdefault("backoff", 0.05)
    kwargs.setdefault("retry_for", 10.0)
    kwargs.setdefault("timeout", 5.0)
    return ImapMailbox(server.url, server.password, {o: o.value for o in Outcome}, **kwargs)


@pytest.fixture
def box(dovecot: Dovecot) -> Iterator[ImapMailbox]:
    mb = open_imap(dovecot)
    yield mb
    mb.close()


def later(delay: float, fn: Any, *args: Any) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        fn(*args)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_it_fetches_oldest_first_in_batches_and_leaves_messages_unseen(dovecot: Dovecot) -> None:
    for n in range(5):
        dovecot.append(mail(n))
    mb = open_imap(dovecot, batch_size=2)
    got = list(mb.fetch_new())
    assert [m.data for m in got] == [mail(n) for n in range(5)]
    assert [int(m.uid) for m in got] == dovecot.uids()
    assert all(m.mailbox == mb.name for m in got)
    assert got[0].uidvalidity == mb.uidvalidity and got[0].uidvalidity > 1
    assert not any("\\Seen" in flags for flags in dovecot.flags().values())
    mb.close()


def test_fetch_new_stops_at_the_limit(box: ImapMailbox, dovecot: Dovecot) -> None:
    for n in range(4):
        dovecot.append(mail(n))
    assert [m.data for m in box.fetch_new(limit=3)] == [mail(0), mail(1), mail(2)]


def test_fetch_new_passes_over_the_uids_to_skip_and_fills_the_limit_after_them(
        box: ImapMailbox, dovecot: Dovecot) -> None:
    for n in range(5):
        dovecot.append(mail(n))
    first = list(box.fetch_new(limit=2))
    after = list(box.fetch_new(limit=2, skip={m.uid for m in first}))
    assert [m.data for m in after] == [mail(2), mail(3)]


def test_fetch_new_stops_at_the_mail_that_fills_the_byte_budget(
        box: ImapMailbox, dovecot: Dovecot) -> None:
    big = [mail(n).replace(b"\r\n\r\n", b"\r\n\r\n" + b"x" * 50_000 + b"\r\n") for n in range(4)]
    for data in big:
        dovecot.append(data)
    # the sizes come from the server (RFC822.SIZE) before any mail is fetched
    assert [m.data for m in box.fetch_new(limit=10, max_bytes=2 * len(big[0]) + 1)] == big[:3]
    assert [m.data for m in box.fetch_new(limit=10, max_bytes=1)] == big[:1]  # one always
    assert len(list(box.fetch_new(limit=2, max_bytes=10**9))) == 2


def test_it_skips_messages_that_were_moved_while_a_batch_was_pending(dovecot: Dovecot) -> None:
    for n in range(3):
        dovecot.append(mail(n))
    mb = open_imap(dovecot, batch_size=1)
    seen = []
    for msg in mb.fetch_new():
        seen.append(msg.data)
        if len(seen) == 1:
            mb.move(msg, Outcome.DONE)
            other = open_imap(dovecot)
            other.move(msg.__class__(mb.name, msg.uidvalidity, str(int(msg.uid) + 1), b""),
                       Outcome.REVIEW)
            other.close()
    assert seen == [mail(0), mail(2)]
    mb.close()


def test_it_moves_messages_to_done_review_and_quarantine_creating_the_folders(
        box: ImapMailbox, dovecot: Dovecot) -> None:
    for n in range(3):
        dovecot.append(mail(n))
    msgs = list(box.fetch_new())
    for msg, outcome in zip(msgs, [Outcome.DONE, Outcome.REVIEW, Outcome.QUARANTINE], strict=True):
        box.move(msg, outcome)
    assert dovecot.uids("INBOX") == []
    assert dovecot.messages("done") == [mail(0)]
    assert dovecot.messages("review") == [mail(1)]
    assert dovecot.messages("quarantine") == [mail(2)]
    with dovecot.client() as conn:
        _typ, lines = conn.lsub()
    subscribed = b" ".join(line for line in lines if isinstance(line, bytes))
    assert b"done" in subscribed and b"quarantine" in subscribed


def test_moving_a_message_that_is_already_gone_is_harmless(
        box: ImapMailbox, dovecot: Dovecot) -> None:
    dovecot.append(mail(1))
    [msg] = box.fetch_new()
    box.move(msg, Outcome.DONE)
    box.move(msg, Outcome.DONE)
    box.move(msg, Outcome.REVIEW)
    assert dovecot.messages("done") == [mail(1)]
    assert dovecot.messages("review") == []


def test_move_from_finds_the_message_by_its_exact_message_id(
        box: ImapMailbox, dovecot: Dovecot) -> None:
    dovecot.append(mail(1, "xabc@test.example"))
    dovecot.append(mail(2, "abc@test.example"))
    for msg in list(box.fetch_new()):
        box.move(msg, Outcome.REVIEW)
    assert box.move_from(Outcome.REVIEW, "<abc@test.example>", Outcome.DONE) is True
    assert dovecot.messages("done") == [mail(2, "abc@test.example")]
    assert dovecot.messages("review") == [mail(1, "xabc@test.example")]
    assert box.move_from(Outcome.REVIEW, "abc@test.example", Outcome.DONE) is False
    assert box.move_from(Outcome.QUARANTINE, "nobody@test.example", Outcome.DONE) is False
    # the inbox is still selected properly afterwards
    dovecot.append(mail(3))
    assert [m.data for m in box.fetch_new()] == [mail(3)]


def test_it_copies_and_expunges_when_move_is_not_used(dovecot: Dovecot) -> None:
    dovecot.append(mail(1))
    dovecot.append(mail(2))
    mb = open_imap(dovecot, use_move=False)
    first, _second = mb.fetch_new()
    mb.move(first, Outcome.QUARANTINE)
    assert dovecot.messages("quarantine") == [mail(1)]
    assert dovecot.messages("INBOX") == [mail(2)]
    assert dovecot.flags("INBOX") and not any(
        "\\Deleted" in f for f in dovecot.flags("INBOX").values())
    mb.close()


@pytest.mark.parametrize("separator", [".", "/"])
def test_folders_get_the_servers_namespace_prefix_and_separator(separator: str) -> None:
    with running_dovecot(prefix="INBOX" + separator, separator=separator) as server:
        server.append(mail(1))
        server.append(mail(2))
        folders = {Outcome.DONE: "Anmeldung/erledigt", Outcome.REVIEW: "review",
                   Outcome.QUARANTINE: "quarantine"}
        mb = ImapMailbox(server.url, server.password, folders, backoff=0.05)
        one, two = mb.fetch_new()
        mb.move(one, Outcome.DONE)
        mb.move(two, Outcome.REVIEW)
        done = server.folder_name(Outcome.DONE, folders)
        assert done == f"INBOX{separator}Anmeldung{separator}erledigt"
        assert server.messages(done) == [mail(1)]
        assert server.messages(f"INBOX{separator}review") == [mail(2)]
        assert mb.move_from(Outcome.REVIEW, "msg-2@test.example", Outcome.DONE)
        assert server.messages(done) == [mail(1), mail(2)]
        mb.close()


def test_an_existing_folder_without_the_prefix_is_not_duplicated(dovecot: Dovecot) -> None:
    dovecot.append(mail(9), folder="done")
    dovecot.append(mail(1))
    mb = open_imap(dovecot)
    [msg] = mb.fetch_new()
    mb.move(msg, Outcome.DONE)
    assert dovecot.messages("done") == [mail(9), mail(1)]
    assert sorted(dovecot.folders()) == ["INBOX", "done"]
    mb.close()


def test_idle_wakes_up_within_two_seconds_of_an_append(box: ImapMailbox, dovecot: Dovecot) -> None:
    assert box.wait(0.2) is False  # connects, nothing there
    later(0.3, dovecot.append, mail(1))
    began = time.monotonic()
    assert box.wait(10) is True
    assert time.monotonic() - began < 2.3
    assert [m.data for m in box.fetch_new()] == [mail(1)]


def test_wait_returns_false_when_nothing_arrives(box: ImapMailbox) -> None:
    began = time.monotonic()
    assert box.wait(0.5) is False
    assert 0.4 < time.monotonic() - began < 3


def test_wait_returns_at_once_while_unfetched_mail_is_waiting(
        box: ImapMailbox, dovecot: Dovecot) -> None:
    for n in range(3):
        dovecot.append(mail(n))
    assert box.wait(5) is True  # nothing fetched yet
    assert len(list(box.fetch_new(limit=2))) == 2
    began = time.monotonic()
    assert box.wait(5) is True  # the third is still waiting
    assert time.monotonic() - began < 1
    list(box.fetch_new())
    assert box.wait(0.3) is False  # fetched but not moved: no busy loop


def test_idle_is_restarted_before_the_refresh_interval(dovecot: Dovecot) -> None:
    mb = open_imap(dovecot, idle_refresh=0.3)
    later(1.0, dovecot.append, mail(1))
    assert mb.wait(5) is True
    mb.close()


def test_polling_notices_new_mail_when_idle_is_off(dovecot: Dovecot) -> None:
    mb = open_imap(dovecot, use_idle=False, poll_interval=0.2)
    assert mb.wait(0.3) is False
    later(0.3, dovecot.append, mail(1))
    began = time.monotonic()
    assert mb.wait(10) is True
    assert time.monotonic() - began < 2
    mb.close()


def test_fetch_new_survives_a_server_restart(box: ImapMailbox, dovecot: Dovecot) -> None:
    dovecot.append(mail(1))
    assert [m.data for m in box.fetch_new()] == [mail(1)]
    dovecot.stop()
    dovecot.start()
    dovecot.append(mail(2))
    assert [m.data for m in box.fetch_new()] == [mail(1), mail(2)]


def test_a_restart_in_the_middle_of_fetch_new_loses_nothing(dovecot: Dovecot) -> None:
    for n in range(4):
        dovecot.append(mail(n))
    mb = open_imap(dovecot, batch_size=1)
    got = []
    for msg in mb.fetch_new():
        got.append(msg.data)
        mb.move(msg, Outcome.DONE)
        if len(got) == 2:
            dovecot.stop()
            dovecot.start()
    assert got == [mail(n) for n in range(4)]
    assert dovecot.messages("done") == got
    mb.close()


def test_fetch_new_waits_for_a_server_that_comes_back(dovecot: Dovecot) -> None:
    dovecot.append(mail(1))
    mb = open_imap(dovecot)
    mb.wait(0.1)
    dovecot.stop()
    later(1.0, dovecot.start)
    assert [m.data for m in mb.fetch_new()] == [mail(1)]
    mb.close()


def test_move_survives_a_server_restart(box: ImapMailbox, dovecot: Dovecot) -> None:
    dovecot.append(mail(1))
    [msg] = box.fetch_new()
    dovecot.stop()
    dovecot.start()
    box.move(msg, Outcome.DONE)
    assert dovecot.messages("done") == [mail(1)]


def test_wait_survives_a_server_restart_during_idle(dovecot: Dovecot) -> None:
    # A short socket timeout: a connect that lands in a dying server's backlog never gets a
    # greeting.
    box = open_imap(dovecot, timeout=2.0)
    assert box.wait(0.1) is False
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(box.wait(15)))
    waiter.start()
    time.sleep(0.5)
    dovecot.stop()
    time.sleep(0.5)
    dovecot.start()
    time.sleep(0.5)
    dovecot.append(mail(1))
    waiter.join(15)
    assert result == [True]
    assert [m.data for m in box.fetch_new()] == [mail(1)]
    box.close()


def test_wait_survives_a_server_restart_while_polling(dovecot: Dovecot) -> None:
    mb = open_imap(dovecot, use_idle=False, poll_interval=0.2)
    assert mb.wait(0.1) is False
    dovecot.stop()
    dovecot.start()
    later(0.5, dovecot.append, mail(1))
    assert mb.wait(10) is True
    mb.close()


def test_it_gives_up_with_one_clear_line_when_the_server_stays_down(
        dovecot: Dovecot, caplog: pytest.LogCaptureFixture) -> None:
    mb = ImapMailbox(dovecot.url_with_password, None, retry_for=1.0, backoff=0.1)
    dovecot.append(mail(1))
    list(mb.fetch_new())
    dovecot.stop()
    caplog.set_level(logging.INFO, logger="mailbot")
    began = time.monotonic()
    with pytest.raises(MailboxError) as err:
        list(mb.fetch_new())
    assert 0.9 < time.monotonic() - began < 3
    text = str(err.value)
    assert "\n" not in text and "connection refused" in text and "gave up" in text
    assert mb.name in text
    failures = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert 2 <= len(failures) <= 10
    assert all("\n" not in r.getMessage() for r in caplog.records)
    assert dovecot.password not in caplog.text and dovecot.password not in text
    assert dovecot.password not in repr(mb) and dovecot.password not in mb.name


def test_wait_reports_possible_mail_when_the_server_stays_down(dovecot: Dovecot) -> None:
    mb = open_imap(dovecot)
    dovecot.stop()
    began = time.monotonic()
    assert mb.wait(1.0) is True
    assert 0.9 < time.monotonic() - began < 2.5


def test_a_starttls_url_refuses_a_server_without_starttls(dovecot: Dovecot) -> None:
    url = f"imap://{dovecot.user}@{dovecot.host}:{dovecot.port}/INBOX"
    mb = ImapMailbox(url, dovecot.password, retry_for=30.0)
    began = time.monotonic()
    with pytest.raises(MailboxError, match="does not offer STARTTLS") as err:
        list(mb.fetch_new())
    assert time.monotonic() - began < 2  # no retrying a configuration problem
    assert "\n" not in str(err.value)


def test_a_wrong_password_fails_at_once_with_a_clear_message(dovecot: Dovecot) -> None:
    mb = ImapMailbox(dovecot.url, "wrong", retry_for=30.0)
    with pytest.raises(MailboxError, match="login refused") as err:
        mb.wait(5)
    assert "wrong" not in str(err.value)


def test_the_name_is_stable_and_has_no_password(dovecot: Dovecot) -> None:
    a = ImapMailbox(dovecot.url_with_password, None)
    b = open_mailbox(dovecot.url, dovecot.password)
    assert a.name == b.name == f"imap://{dovecot.user}@127.0.0.1:{dovecot.port}/INBOX"


def test_a_changed_uidvalidity_is_reported_and_moves_still_find_the_message(
        dovecot: Dovecot, caplog: pytest.LogCaptureFixture) -> None:
    dovecot.append(mail(1))
    mb = open_imap(dovecot)
    [msg] = mb.fetch_new()
    old = msg.uidvalidity
    dovecot.stop()
    maildir = dovecot.root / "mail" / dovecot.user / "Maildir"
    renumber(maildir)
    dovecot.start()
    caplog.set_level(logging.WARNING, logger="mailbot")
    [again] = mb.fetch_new()
    assert again.uidvalidity != old and "UIDVALIDITY changed" in caplog.text
    mb.move(msg, Outcome.DONE)  # the old UID means nothing now: found by Message-ID
    assert dovecot.messages("done") == [mail(1)]
    mb.close()


def renumber(maildir: Path) -> None:
    """Make Dovecot forget its UIDs, as after a server migration."""
    time.sleep(1.1)  # UIDVALIDITY is a timestamp in seconds
    for path in maildir.iterdir():
        if path.name.startswith("dovecot"):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


class Interrupted(BaseException):
    """What `mailbot run`'s signal handler raises to leave an IDLE at once."""


def test_an_interrupt_during_idle_leaves_the_mailbox_usable(
        box: ImapMailbox, dovecot: Dovecot) -> None:
    def interrupt(_signum: int, _frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        began = time.monotonic()
        with pytest.raises(Interrupted):
            box.wait(10)
        assert time.monotonic() - began < 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    dovecot.append(mail(1))
    assert [m.data for m in box.fetch_new()] == [mail(1)]
    box.close()


@pytest.fixture
def tls_dovecot() -> Iterator[Dovecot]:
    with running_dovecot(tls=True) as server:
        yield server


def test_imaps_with_a_trusted_certificate_works(
        tls_dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_dovecot.cert))
    tls_dovecot.append(mail(1))
    mb = ImapMailbox(f"imaps://{tls_dovecot.user}@localhost:{tls_dovecot.imaps_port}/INBOX",
                     tls_dovecot.password)
    assert [m.data for m in mb.fetch_new()] == [mail(1)]
    assert mb.wait(0.2) is False
    mb.close()


def test_imap_upgrades_with_starttls_and_checks_the_certificate(
        tls_dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_dovecot.cert))
    tls_dovecot.append(mail(1))
    mb = ImapMailbox(f"imap://{tls_dovecot.user}@localhost:{tls_dovecot.port}/INBOX",
                     tls_dovecot.password)
    [msg] = mb.fetch_new()
    mb.move(msg, Outcome.DONE)
    mb.close()
    logins = [line for line in tls_dovecot.log.splitlines() if "Login: user=<mailbot>" in line]
    assert logins and "TLS" in logins[-1]


@pytest.mark.parametrize("scheme", ["imaps", "imap"])
def test_an_untrusted_certificate_is_refused_at_once(tls_dovecot: Dovecot, scheme: str) -> None:
    port = tls_dovecot.imaps_port if scheme == "imaps" else tls_dovecot.port
    mb = ImapMailbox(f"{scheme}://{tls_dovecot.user}@localhost:{port}/INBOX",
                     tls_dovecot.password, retry_for=30.0)
    began = time.monotonic()
    with pytest.raises(MailboxError, match="certificate check failed") as err:
        list(mb.fetch_new())
    assert time.monotonic() - began < 2
    assert "\n" not in str(err.value)


def test_imap_insecure_keeps_tls_but_skips_the_certificate_check(tls_dovecot: Dovecot) -> None:
    tls_dovecot.append(mail(1))
    mb = ImapMailbox(f"imap+insecure://{tls_dovecot.user}@localhost:{tls_dovecot.port}/INBOX",
                     tls_dovecot.password)
    assert [m.data for m in mb.fetch_new()] == [mail(1)]
    mb.close()


def test_a_mail_that_slips_in_just_before_idle_is_seen_at_the_next_restart(
        dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    mb = open_imap(dovecot, idle_refresh=1.0)
    assert mb.wait(0.1) is False
    check = mb._has_newer

    def check_then_deliver(client: Any) -> bool:
        found = check(client)
        dovecot.append(mail(1))  # after the check, before IDLE: the server will not tell
        return found

    monkeypatch.setattr(mb, "_has_newer", check_then_deliver)
    began = time.monotonic()
    assert mb.wait(10) is True
    assert time.monotonic() - began < 2
    mb.close()
