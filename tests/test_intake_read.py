"""Reading a mail for intake: text the database and outgoing headers can take."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from mailbot.classify import load_default_rules
from mailbot.runners.intake_read import _without_surrogates, understand

RAW_8BIT = (b"From: J\xf6rg M\xfcller <joerg@example.org>\r\n"
            b"To: anmeldung@example.org\r\n"
            b"Subject: Anmeldung f\xfcr den Fachtag\r\n"
            b"Message-ID: <8bit-1@example.org>\r\n"
            b"\r\n"
            b"Hallo, ich melde mich f\xfcr den Fachtag an. Gr\xfc\xdfe\r\n")

PLAIN = ("From: Jörg Müller <joerg@example.org>\r\nTo: anmeldung@example.org\r\n"
         "Subject: Anmeldung\r\nMessage-ID: <plain-1@example.org>\r\n"
         "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
         "Hallo, ich melde mich für den Fachtag an.\r\n").encode()


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple | list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for kv in value.items() for s in _strings(kv)]
    return []


def test_raw_8bit_headers_come_out_as_text_utf8_can_encode() -> None:
    mail, _intent = understand(RAW_8BIT, [], load_default_rules(), datetime(2026, 11, 1, tzinfo=UTC))
    texts = [s for v in vars(mail).values() for s in _strings(v)]
    for text in texts:
        text.encode("utf-8")  # no lone surrogate left: this raises on one
    assert mail.subject == "Anmeldung für den Fachtag"


def test_lone_surrogates_are_turned_into_text_wherever_they_are() -> None:
    """What the stdlib parser leaves of raw bytes it could not decode: lone surrogates, in any
    field, in tuples and in the headers' keys and values."""
    mail, _intent = understand(PLAIN, [], load_default_rules(), datetime(2026, 11, 1, tzinfo=UTC))
    broken = replace(mail, subject="f\udcfcr", to=("a@example.org", "b\udce4@example.org"),
                     headers={**mail.headers, "X-Note": "gr\udcfc\udcdfe", "X-\udcf6": "x"})
    fixed = _without_surrogates(broken)
    for value in vars(fixed).values():
        for text in _strings(value):
            text.encode("utf-8")  # raises on a lone surrogate
    assert fixed.subject == "f\ufffdr" and fixed.to[0] == "a@example.org"
    assert fixed.headers["X-Note"] == "gr\ufffd\ufffde" and "X-\ufffd" in fixed.headers
    assert fixed.text is mail.text  # what had none is the same object: nothing copied


def test_a_clean_mail_keeps_its_values() -> None:
    mail, _intent = understand(PLAIN, [], load_default_rules(), datetime(2026, 11, 1, tzinfo=UTC))
    assert mail.subject == "Anmeldung" and mail.sender_name == "Jörg Müller"
    assert _without_surrogates(mail) is mail
