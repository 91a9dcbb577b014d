"""Sender trust: only our own mail server's Authentication-Results can vouch for a From: address."""

from __future__ import annotations

from mailbot.parse import parse
from mailbot.parse.authentication import aligned, sender_trust
from mailbot.types import Trust

OURS = ("mx.mitgen.example",)
MARIA = "maria@verein.example"


def trust(*headers: str, sender: str = MARIA, ours: tuple[str, ...] = OURS) -> Trust:
    return sender_trust(sender, headers, ours)


def test_it_verifies_a_dmarc_pass_from_our_server() -> None:
    assert trust("mx.mitgen.example; spf=fail smtp.mailfrom=x.example;"
                 " dmarc=pass (p=reject) header.from=verein.example") is Trust.VERIFIED


def test_it_verifies_a_dkim_pass_of_the_from_domain_or_a_parent_or_child_of_it() -> None:
    assert trust("mx.mitgen.example; dkim=pass header.d=verein.example header.s=2027") \
        is Trust.VERIFIED
    assert trust("mx.mitgen.example; dkim=pass header.d=verein.example",
                 sender="maria@mail.verein.example") is Trust.VERIFIED
    assert trust("mx.mitgen.example; dkim=pass header.d=mail.verein.example") is Trust.VERIFIED


def test_a_dkim_pass_of_another_domain_is_not_aligned() -> None:
    assert trust("mx.mitgen.example; dkim=pass header.d=mailer.example") is Trust.UNVERIFIED
    assert trust("mx.mitgen.example; dkim=pass header.d=everein.example") is Trust.UNVERIFIED
    assert not aligned("verein.example.evil.example", "verein.example")


def test_a_failing_or_neutral_result_verifies_nobody() -> None:
    assert trust("mx.mitgen.example; dkim=fail header.d=verein.example;"
                 " dmarc=fail header.from=verein.example") is Trust.UNVERIFIED
    assert trust("mx.mitgen.example; spf=pass smtp.mailfrom=verein.example") \
        is Trust.UNVERIFIED  # SPF vouches for the envelope, not for the From: header


def test_a_dmarc_pass_for_another_from_domain_does_not_count() -> None:
    assert trust("mx.mitgen.example; dmarc=pass header.from=evil.example") is Trust.UNVERIFIED


def test_a_header_from_a_foreign_authserv_id_is_ignored() -> None:
    forged = "mx.verein.example; dkim=pass header.d=verein.example; dmarc=pass"
    assert trust(forged) is Trust.UNVERIFIED
    assert trust(forged, "mx.mitgen.example; dkim=none") is Trust.UNVERIFIED
    assert trust(forged, ours=("mx.verein.example",)) is Trust.VERIFIED


def test_without_a_configured_authserv_id_nobody_is_verified() -> None:
    assert trust("mx.mitgen.example; dmarc=pass header.from=verein.example", ours=()) \
        is Trust.UNVERIFIED


def test_a_missing_or_broken_header_verifies_nobody() -> None:
    assert trust() is Trust.UNVERIFIED
    assert trust("mx.mitgen.example; dkim=pass header.d=", "=;;;") is Trust.UNVERIFIED
    assert trust("mx.mitgen.example; dmarc=pass", sender="") is Trust.UNVERIFIED


def test_the_authserv_id_is_compared_without_regard_to_case() -> None:
    assert trust("MX.Mitgen.Example; dmarc=pass header.from=Verein.Example") is Trust.VERIFIED


def test_parse_keeps_every_authentication_results_header_in_order() -> None:
    raw = (b"Authentication-Results: mx.mitgen.example;\r\n"
           b"\tdkim=pass header.d=verein.example header.s=2027\r\n"
           b"Authentication-Results: mx.verein.example; dmarc=pass\r\n"
           b"From: Maria Muster <maria@verein.example>\r\nTo: anmeldung@mitgen.example\r\n"
           b"Subject: Absage\r\nMessage-ID: <a1@verein.example>\r\n\r\nIch sage ab.\r\n")
    mail = parse(raw)
    assert len(mail.authentication_results) == 2
    assert mail.authentication_results[1] == "mx.verein.example; dmarc=pass"
    assert sender_trust(mail.sender_email, mail.authentication_results, OURS) is Trust.VERIFIED
