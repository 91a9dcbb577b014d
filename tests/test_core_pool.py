"""Large batches on every core: mails read and replies rendered in forked worker processes give
what the calling process would have given."""

from __future__ import annotations

import gc
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailbot.outbox.compose import flat_message, make_message
from mailbot.outbox.wire import as_flat, message_bytes
from mailbot.runners import delivery, intake
from mailbot.runners.pool import CorePool
from mailbot.types import EventInfo, InboundMail, Intent, OutgoingMail

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=ZoneInfo("UTC"))


def _mail(n: int) -> bytes:
    return (f"From: Person {n} <p{n}@verein.example>\r\nTo: anmeldung@mitgen.example\r\n"
            f"Subject: Anmeldung\r\nMessage-ID: <c{n}@verein.example>\r\n\r\n"
            f"Hiermit melde ich mich an.\r\n\r\nPerson {n}\r\n").encode()


def read(data: bytes, events: list[EventInfo]) -> tuple[InboundMail, Intent]:
    if b"<c3@" in data:
        raise ValueError("cannot read this one")
    from mailbot.classify import load_rules
    from mailbot.config import default_rules_dir

    return intake.understand(data, events, load_rules(default_rules_dir()), NOW)


def test_a_batch_read_in_worker_processes_equals_one_read_here_and_errors_keep_their_place(
        ) -> None:
    datas = [_mail(n) for n in range(20)]
    pool = CorePool(workers=2, threshold=4, initializer=intake.start_reader, initargs=(read,))
    try:
        pooled = list(intake.pooled(read, pool)(datas, []))
        assert pool.started
    finally:
        pool.close()
    here = intake.understand_each(read, datas, [])
    assert len(pooled) == len(here) == 20
    for a, b in zip(pooled, here, strict=True):
        if isinstance(b, Exception):
            assert isinstance(a, Exception)
            assert "cannot read this one" in intake.quarantine_reason(a)
            assert ".py:" in intake.quarantine_reason(a)  # where it was raised, from the worker
        else:
            assert a == b


def test_a_small_batch_is_read_here_without_starting_processes() -> None:
    pool = CorePool(workers=2, threshold=16, initializer=intake.start_reader, initargs=(read,))
    got = list(intake.pooled(read, pool)([_mail(n) for n in range(5)], []))
    assert len(got) == 5 and not pool.started


def _note_start(directory: str) -> None:
    Path(directory, str(os.getpid())).touch()


def test_started_ahead_every_process_runs_its_initializer_before_any_work(tmp_path: Path
                                                                         ) -> None:
    """`mailbot run` starts the readers before the first mail (each warms up on its own), so
    the first mail of an LMTP connection or an IDLE wake-up does not wait for the fork."""
    pool = CorePool(workers=2, initializer=_note_start, initargs=(str(tmp_path),))
    try:
        pool.start()
        deadline = time.monotonic() + 60
        while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list(tmp_path.iterdir())) == 2 and pool.started
    finally:
        pool.close()


_STARTUP: list[object] = []  # what the parent loaded at start-up (rules, the model)
_LOADED: list[object] = []  # what a reader's warm-up loaded (a tagger, compiled patterns)


def _warm_read(data: bytes, events: list[EventInfo]) -> tuple[InboundMail, Intent]:
    _LOADED.append([data, []])
    raise ValueError("only warming up")


def _seen_by_the_collector() -> tuple[bool, bool]:
    """In a reader: are the parent's start-up object and the warm-up's still walked by the
    garbage collector?"""
    ids = {id(o) for o in gc.get_objects()}
    return id(_STARTUP[0]) in ids, any(id(o) in ids for o in _LOADED)


def test_what_start_up_loaded_is_frozen_out_of_the_collectors_sight_before_the_fork() -> None:
    """A full collection walks every object that start-up loaded (rules, patterns, the model:
    some hundred thousand) each time, in the worker and in each reader, and a forked reader
    that walks them writes to the parent's pages (copy-on-write). Frozen before the fork, and
    in each reader after its warm-up, they are out of its sight."""
    _STARTUP[:] = [["loaded at start-up", []]]
    assert gc.is_tracked(_STARTUP[0])
    pool = CorePool(workers=2, initializer=intake.start_reader, initargs=(_warm_read, [b"x"]))
    try:
        pool.start()
        assert all(o is not _STARTUP[0] for o in gc.get_objects())  # frozen in the parent
        assert pool.submit(_seen_by_the_collector).result() == (False, False)
    finally:
        pool.close()


def _doubled(xs: list[int]) -> list[int]:
    return [2 * x for x in xs]


def _still_usable(pool: CorePool) -> bool:
    try:
        pool._pool.submit(int).result()  # type: ignore[union-attr]
    except BrokenProcessPool:
        return False
    return True


def test_after_a_worker_process_was_killed_the_next_batch_is_read_all_the_same(
        caplog: pytest.LogCaptureFixture) -> None:
    """A reader killed (the OOM killer, a crash in a C extension) breaks a process pool for
    good; the pool starts its processes anew, else `mailbot run` would read no mail again."""
    pool = CorePool(workers=2, threshold=2)
    try:
        assert pool.map_chunks(_doubled, list(range(10))) == list(range(0, 20, 2))
        victim = pool._pool._processes and next(iter(pool._pool._processes))  # type: ignore[union-attr]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while _still_usable(pool) and time.monotonic() < deadline:  # its own thread notices
            time.sleep(0.05)
        assert pool.map_chunks(_doubled, list(range(10))) == list(range(0, 20, 2))
        assert "worker process ended abruptly" in caplog.text
    finally:
        pool.close()


def test_a_reply_rendered_in_a_worker_process_goes_out_as_the_same_bytes() -> None:
    tz = ZoneInfo("Europe/Berlin")
    mail = OutgoingMail(template="confirmation", language="de", to="joerg@verein.example",
                        context={"name": "Jörg Weiß", "seats": 1, "original_subject": "Anmeldung",
                                 "event": {"title": "Fachtag „Gleichstellung“", "slug": "f",
                                           "starts": "2027-09-16T10:00:00+02:00",
                                           "ends": "2027-09-16T16:30:00+02:00",
                                           "city": "Hannover", "venue": "Pavillon"}},
                        message_id="r1@mitgen.example", in_reply_to="c1@verein.example")
    sender = "MitGeN Anmeldung <anmeldung@mitgen.example>"
    pool = CorePool(workers=2, threshold=1)
    try:
        [flat] = pool.map_chunks(delivery._render_chunk, [mail], sender, tz)
    finally:
        pool.close()
    assert isinstance(flat, tuple), flat  # bytes, header lines, envelope: nothing to parse
    here = message_bytes(mail, sender, tz)
    assert here is not None
    msg = as_flat(flat)
    assert msg.envelope == ("anmeldung@mitgen.example", ["joerg@verein.example"])

    def without_date(data: bytes) -> list[bytes]:  # and with the random boundaries named
        data = re.sub(rb"=_mailbot_[0-9a-f]+", b"BOUNDARY", data)
        return [line for line in data.split(b"\r\n") if not line.startswith(b"Date:")]

    assert without_date(msg.as_bytes(policy=msg.policy)) == without_date(here)
    composed = make_message(mail, sender, tz)
    assert msg["To"] == composed["To"] and msg["From"] == composed["From"]
    assert msg.as_bytes(policy=msg.policy.clone(linesep="\n")) == flat[0].replace(b"\r\n",
                                                                                  b"\n")
    assert flat_message(flat[0])["To"] == msg["To"]  # what the bytes say, read back


@pytest.mark.parametrize(("once", "expected"), [
    (False, ["1", "True", "False"]),  # `mailbot run`: in a reader process, no tagger here
    (True, ["1", "False", "True"]),  # `run --once` (cron): here, no processes started for it
], ids=["run", "run-once"])
def test_where_mailbot_run_reads_a_lone_mail(tmp_path: Path, once: bool,
                                            expected: list[str]) -> None:
    """The taggers (~30-40 MB each) are used only by the readers of a long-running worker,
    whose main process (its peak RSS bounded by the issue) loads the rules and the learned
    model and applies; a `run --once` for one mail reads it itself."""
    inbox = tmp_path / "inbox"
    for sub in ("cur", "new", "tmp"):
        (inbox / sub).mkdir(parents=True)
    (inbox / "new" / "1.mail").write_bytes(_mail(1))
    env = {**os.environ, "MAILBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
           "MAILBOT_MAILBOX_URL": f"maildir://{inbox}",
           "MAILBOT_SMTP_URL": f"file://{tmp_path / 'out'}",
           "MAILBOT_FROM": "MitGeN Anmeldung <anmeldung@mitgen.example>"}
    code = ("import sys; from mailbot.commands.common import worker; "
            "from mailbot.commands.run import close, reading_pool; "
            "from mailbot.config import load_settings; "
            "w = worker(load_settings(None, env=dict(__import__('os').environ)), mailbox=True, "
            f"transport=True); w.pool = reading_pool(w, lone_mail_here={once}); "
            "n = w.intake_pass(); print(n, w.pool.started, 'HanTa' in sys.modules); close(w)")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == expected
