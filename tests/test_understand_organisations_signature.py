"""classify(): the organisation from the structure of a signature block: the carrier line wins
over department, office and role lines, wherever it stands; a department counts alone only
without a carrier; address blocks, contact lines, footers and disclaimers are no organisation."""

from __future__ import annotations

import pytest

from mailbot.classify.signature_block import Kind, line_kind
from tests.understanding import RULES, from_text

BODY = "Hiermit melde ich mich für das Forum Arbeit an.\n\nViele Grüße\n\nAda Lim\n"
BODY_EN = "Please register me for the Forum Arbeit.\n\nKind regards,\nAda Lim\n"


def org(signature: str, body: str = BODY) -> str | None:
    return from_text(body + signature).organization


@pytest.mark.parametrize("signature, want", [
    # department and office above the carrier
    ("Sachbearbeiterin\nIntegrationsbüro\nHansestadt Stralsund\nAlter Markt 7, 18439 Stralsund\n",
     "Hansestadt Stralsund"),
    ("Referentin\nFachbereich 5 – Jugend, Familie und Soziales\n\nVogelsbergkreis\nDer Kreisausschuss\n"
     "Goldhelg 20\n36341 Lauterbach\nTel. 06641 977-0\n", "Vogelsbergkreis"),
    # the carrier first, the department below it
    ("Landkreis Rotenburg (Wümme)\nAmt für Jugend und Familie\nHopfengarten 2\n",
     "Landkreis Rotenburg (Wümme)"),
    # a service line and a welfare association
    ("Beraterin\nFlüchtlingssozialarbeit\nCaritasverband Osnabrück e.V.\n", "Caritasverband Osnabrück e.V."),
    ("Leiterin der Beratungsstelle\nDiakonie Lüneburger Heide\n", "Diakonie Lüneburger Heide"),
    # a department alone, when no carrier is given
    ("Gleichstellungsstelle\nRathausplatz 1\n29221 Celle\n", "Gleichstellungsstelle"),
    # an organisation line beats a generic service line
    ("Beratung & Bildung\nFrauenzentrum Goslar\n", "Frauenzentrum Goslar"),
    # role and organisation on one line, fields split by a bar
    ("Verein Brückenbau e.V. | Projektkoordination\n", "Verein Brückenbau e.V."),
    # the organisation after a role in one line
    ("Integrationsbeauftragte der Samtgemeinde Hambergen\n", "Samtgemeinde Hambergen"),
])
def test_the_carrier_of_a_german_signature_is_the_organisation(signature, want):
    assert org(signature) == want


@pytest.mark.parametrize("signature, want", [
    ("Community Outreach Lead\nRefugee Council Bradford\n", "Refugee Council Bradford"),
    ("Family Support Worker\nSomali Women's Association Sheffield\n12 Bridge Street\n",
     "Somali Women's Association Sheffield"),
    ("Department of Social Work\nUniversity of Bremen\n", "University of Bremen"),
])
def test_english_signatures_give_the_carrier(signature, want):
    assert org(signature, BODY_EN) == want


def test_footers_social_links_and_disclaimers_are_no_organisation():
    sig = ("Besuchen Sie uns auch auf Instagram und Facebook!\n"
           "Diese E-Mail kann vertrauliche Informationen enthalten. Wenn Sie nicht der richtige "
           "Adressat sind, informieren Sie bitte den Absender.\n")
    assert org(sig) is None
    assert org("Tel. 0511 123456\nwww.beispiel.example\nFolgen Sie uns auf LinkedIn\n") is None


def test_the_organisation_stands_above_the_address_and_not_below_it():
    sig = "Frauennetz Aurich\nNorderstraße 12\n26603 Aurich\nRegistergericht Aurich VR 1234\n"
    assert org(sig) == "Frauennetz Aurich"


def test_the_organisation_named_in_running_text_after_a_verb():
    i = from_text("Please register me for the Forum Arbeit. I represent the Eritrean "
                  "Community Association Kassel.\n\nBest,\nAda Lim\n")
    assert i.organization == "Eritrean Community Association Kassel"


@pytest.mark.parametrize("line, kind", [
    ("Stadt Wolfsburg", Kind.CARRIER),
    ("Ennepe-Ruhr-Kreis", Kind.CARRIER),
    ("Internationaler Bund gGmbH", Kind.CARRIER),
    ("Fachdienst Integration", Kind.DEPARTMENT),
    ("Der Oberbürgermeister", Kind.ROLE),
    ("Jugendamt", Kind.DEPARTMENT),
    ("Bildungsreferentin", Kind.ROLE),
    ("Am Markt 3, 31785 Hameln", Kind.ADDRESS),
    ("Fax: 05151 202-1", Kind.CONTACT),
    ("Sitz der Gesellschaft: Hameln", Kind.FOOTER),
])
def test_line_kinds(line, kind):
    assert line_kind(line, RULES).kind is kind


def test_the_fields_after_the_name_on_its_own_line_are_read_too():
    assert org("Ada Lim | Referentin | Stadt Sarstedt\n", "Ich melde mich für das Forum Arbeit "
               "an.\n\nMit freundlichen Grüßen\n\n") == "Stadt Sarstedt"


def test_a_role_line_naming_a_council_gives_what_follows_the_role():
    assert org("Mitglied im Seniorenbeirat der Stadt Lehrte\n") == "Seniorenbeirat der Stadt Lehrte"
