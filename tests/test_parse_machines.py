"""parse(): signals of machine-written mail, bounces with permanent and delayed recipients."""

from __future__ import annotations

from pathlib import Path

from mailbot.classify import load_default_rules
from mailbot.parse import parse
from mailbot.types import InboundMail

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
RULES = load_default_rules()


def mail(name: str) -> InboundMail:
    return parse((FIXTURES / name).read_bytes(), RULES)


def test_a_dsn_lists_only_the_permanently_failed_recipient():
    m = mail("dsn_mixed.eml")
    assert m.is_bounce_report
    assert m.bounced_recipients == ("gone@kreis.example",)


def test_a_delay_warning_lists_no_recipient():
    m = mail("dsn_delayed.eml")
    assert m.is_bounce_report
    assert m.bounced_recipients == ()


def test_a_plain_qmail_bounce_names_its_recipient():
    m = mail("qmail_bounce.eml")
    assert m.is_bounce_report
    assert m.bounced_recipients == ("nobody.here@verein.example",)


def test_x_failed_recipients_counts_unless_the_mail_is_a_delay_warning():
    head = (b"From: Mail Delivery System <Mailer-Daemon@mx.example>\r\n"
            b"X-Failed-Recipients: lost@verein.example\r\n")
    failed = parse(head + b"Subject: Mail delivery failed\r\n\r\nA message could not be "
                   b"delivered.\r\n", RULES)
    delayed = parse(head + b"Subject: Warning: message 1abc delayed 24 hours\r\n\r\n"
                    b"The server will continue to retry.\r\n", RULES)
    assert failed.bounced_recipients == ("lost@verein.example",)
    assert delayed.bounced_recipients == ()


def test_header_markers_are_recorded():
    assert "auto:auto-submitted=auto-replied" in mail("auto_submitted.eml").auto_markers
    assert {"list:list-id", "list:precedence=bulk"} <= set(mail("list_mail.eml").auto_markers)


def test_an_out_of_office_notice_without_headers_is_marked_by_its_body():
    assert "auto:body" in mail("ooo_no_headers.eml").auto_markers


def test_an_abwesenheitsnotiz_subject_is_marked():
    assert "auto:subject" in mail("abwesenheitsnotiz.eml").auto_markers


def test_our_own_loop_header_is_recognised():
    assert mail("own_loop.eml").ours
    assert not mail("latin1_body.eml").ours


def test_a_person_writing_nicht_erreichbar_in_a_registration_is_not_a_machine():
    data = ("From: a@b.example\r\nSubject: Anmeldung\r\nContent-Type: text/plain; charset=utf-8"
            "\r\n\r\nIch melde mich an. Am Vormittag bin ich telefonisch nicht erreichbar.\r\n")
    assert parse(data.encode(), RULES).auto_markers == ()
