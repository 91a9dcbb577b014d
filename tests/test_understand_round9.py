"""classify(): invented sentences of the ninth probe round, written before the parser was
changed for them (about a fifth were wrong): a companion left unnamed ("noch jemanden"), a
remark set off by dashes between a verb and its particle, a pronoun left out ("Bin beim …
dabei"), a decision after a question ("Dann würde ich …"), a thought and a wish in one sentence,
a group total said as being there ("Wir sind zu zweit beim …")."""

from __future__ import annotations

import pytest

from mailbot.classify import classify
from mailbot.parse import parse
from tests.understanding import EVENTS, NOW, RULES, from_text

ROUND = [
    ("Hallo zusammen, ich melde mich für das Forum Arbeit an und bringe noch jemanden mit.",
     "register", 2),
    ("Ich komme zum Forum Arbeit und bringe noch jemanden mit. Grüße Ada", "register", 2),
    ("Hi, I'm thinking of the Forum Arbeit and I'd like to register. Best, Ada", "register", 1),
    ("Guten Tag, hiermit melde ich mich – sofern noch Plätze frei sind – verbindlich zum "
     "Forum Arbeit an.", "register", 1),
    ("Wir sind zu zweit beim Forum Arbeit, ich und mein Kollege Jonas Weber.", "register", 2),
    ("Please put me down for the Forum Arbeit, plus one.", "register", 2),
    ("Gibt es beim Forum Arbeit eine Kinderbetreuung? Dann würde ich mich anmelden.",
     "question", 0),
    ("hey, bin beim forum arbeit dabei lg ada", "register", 1),
    ("Ich komme zum Forum Arbeit. Meine Tochter (16) würde ich gern mitbringen, ist das ok?",
     "register", 2),
    ("Ich bin am 6. Juli beim Forum „Arbeit gestalten – gemeinsam für alle“ gerne dabei.",
     "register", 1),
    ("Am Forum Arbeit nehme ich als neue Beauftragte des Kreises – ich habe das Amt erst im "
     "Mai übernommen – gern teil.", "register", 1),
    ("Anmeldung Forum Arbeit für mich + 1 Kollegin, Name folgt.", "register", 2),
    # past and later occasions register nobody now
    ("Danke für das schöne Forum Arbeit! Wie toll, dass so viele dabei waren. Beim nächsten "
     "Mal nehme ich gern wieder teil.", "other", 0),
    ("Thanks for a great day. Next time I will join again!", "other", 0),
    ("I attended last year and loved it. I'd like to register again for the Forum Arbeit.",
     "register", 1),
    ("Letztes Jahr war ich schon dabei, dieses Jahr melde ich mich wieder zum Forum Arbeit an.",
     "register", 1),
    # what answers nobody, and what registers by its object (unseen16-19 families)
    ("Die Anmeldung zum Forum Arbeit ohne eigenen Beitrag ist ab Juni möglich.", "other", 0),
    ("Vielen Dank für die Einladung! Ich selbst bin an dem Tag im Urlaub, leite die Einladung "
     "aber gern in unserem Netzwerk weiter.", "other", 0),
    ("I'm Lea, a freelance graphic designer. I specialise in print materials for NGOs. Do you "
     "already have someone for the badges of the Forum Arbeit? I'd be happy to send you my "
     "portfolio and a quote.", "other", 0),
    ("Hiermit zeige ich meine Teilnahme am Forum Arbeit verbindlich an.", "register", 1),
    ("Ich bestätige hiermit meine Anmeldung zum Forum Arbeit.", "register", 1),
    ("Ihre Einladung zum Forum Arbeit nehme ich gern an.", "register", 1),
    ("Sehr geehrte Damen und Herren, ich bin nicht mehr im Integrationsrat tätig. Bitte löschen "
     "Sie alle meine Daten aus Ihrem Verteiler.", "erase", 0),
    ("Dear team, I am no longer with the association. Please delete my data from your list.",
     "erase", 0),
    # already right before the round; kept as neighbours of the families above
    ("Liebes Team, wir möchten uns als Verein mit vier Personen zum Forum Arbeit anmelden.",
     "register", 4),
    ("Unfortunately I won't be able to make it to the Forum Arbeit after all.", "cancel", 1),
    ("Meine Kollegin Frau Yilmaz und ich kommen beide zum Forum Arbeit.", "register", 2),
    ("Count me in for the Forum Arbeit! Ada", "register", 1),
    ("Ich melde mich zum Forum Arbeit an. Gibt es vor Ort Parkplätze?", "register", 1),
    ("Statt zwei brauchen wir jetzt drei Plätze beim Forum Arbeit.", "register", 3),
    ("We are a team of five and would like to join the Forum Arbeit.", "register", 5),
    ("Kann ich zum Forum Arbeit auch meine Tochter mitbringen? Sie ist 16.", "question", 0),
]


@pytest.mark.parametrize("body, kind, seats", ROUND)
def test_a_sentence_of_the_ninth_round_means_its_intent_and_seats(body, kind, seats):
    i = from_text(body)
    assert (i.kind.value, i.party_size) == (kind, seats), (body, i.reasons)


def test_what_is_left_of_a_group_registers_nobody_new():
    assert from_text("Wir sind jetzt nur noch zu zweit beim Forum Arbeit.").kind.value == "cancel"


def _mail(body: str, sender: str = "Ada Lim <ada.lim@verein.example>", cc: str = ""):
    raw = (f"From: {sender}\nTo: anmeldung@netzwerk-nord.example\n" + (f"Cc: {cc}\n" if cc else "")
           + "Subject: Forum Arbeit\nMessage-ID: <x@verein.example>\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=utf-8\n\n" + body)
    return classify(parse(raw.encode(), RULES), EVENTS, RULES, NOW)


# Whole mails of the families two blind corpora (unseen12, unseen13) showed wrong, written
# anew from the family descriptions alone: (body, sender, cc, kind, seats, attendees, asks)
MAILS = [
    ("Hello,\n\non behalf of our association I would like to register two colleagues for the "
     "Forum Arbeit on 6 July: Grace Mensah and Tom Byrne. I will not attend myself.\n\nKind "
     "regards\nLinda Frost", "", "", "register", 2, ["Grace Mensah", "Tom Byrne"], False),
    ("Hi,\n\nI'll be there at the Forum Arbeit. Do I need to bring anything?\n\nBest\nAda Lim",
     "", "", "register", 1, ["Ada Lim"], True),
    ("Guten Tag,\n\nbevor ich meine Kolleginnen zum Forum Arbeit anmelde, hätte ich zwei Fragen: "
     "Gibt es Parkplätze? Ist der Raum barrierefrei?\n\nViele Grüße\nAda Lim",
     "", "", "question", 0, [], True),
    ("Hallo,\n\nwir vom Frauentreff Nord kommen mit 5 Leuten zum Forum Arbeit. Die Namen "
     "schicke ich noch.\n\nLG Ada Lim", "", "", "register", 5, ["Ada Lim"], False),
    ("Hi,\n\nmy husband Kofi and I want to come to the Forum Arbeit. Is there childcare on "
     "site? If not, no problem, we will manage.\n\nAda Lim",
     "", "", "register", 2, ["Ada Lim", "Kofi Lim"], True),
    ("Hallo,\n\nich bin für das Forum Arbeit schon angemeldet. Gibt es vor Ort "
     "Behindertenparkplätze und ist der Eingang stufenlos?\n\nGrüße\nAda Lim",
     "", "", "question", 0, [], True),
    ("Hallo,\n\nich melde mich zum Forum Arbeit an. Wer hätte gedacht, dass wir so schnell "
     "wieder zusammenkommen?\n\nAda Lim", "", "", "register", 1, ["Ada Lim"], False),
    ("Hallo,\n\nhiermit melde ich mich an. Ich spreche Arabisch, Kurdisch und Türkisch und kann "
     "bei Bedarf dolmetschen.\n\nAda Lim", "", "", "register", 1, ["Ada Lim"], False),
    ("Hallo,\n\nich melde mich zum Forum Arbeit an und bringe noch jemanden mit – den Namen "
     "reiche ich nächste Woche nach.\n\nAda Lim", "", "", "register", 2, ["Ada Lim"], False),
    ("Liebes Team,\n\nich melde mich für das Forum Arbeit an. Meine Kollegin in Cc kann aber "
     "leider nicht – ich komme also allein. Ich esse vegetarisch, falls das für die Planung "
     "wichtig ist.\n\nAda Lim", "", "Mia Roth <mia.roth@verein.example>",
     "register", 1, ["Ada Lim"], False),
    ("Hello,\n\nwe would like to come to the Forum Arbeit with a group. Is interpreting into "
     "Arabic possible? If interpreting is possible, I will send you a group registration.\n\n"
     "Ada Lim", "", "", "question", 0, [], True),
    ("Hallo,\n\nwir müssen leider absagen – wir waren zu dritt für das Forum Arbeit angemeldet "
     "(ich, Lena und Sami).\n\nAda Lim", "", "", "cancel", 3, ["Ada Lim", "Lena", "Sami"], False),
    ("Hallo,\n\nwir kommen zu viert zum Forum Arbeit: ich, Lena, Sami und Petra.\n\nViele "
     "Grüße\nAda\n\nAda Lim\nFrauentreff Nord", "Frauentreff Nord <team@frauentreff.example>",
     "", "register", 4, ["Ada Lim", "Lena", "Sami", "Petra"], False),
    ("Dear team,\n\nwe would like to register for the Forum Arbeit:\n1. Ada Lim (myself)\n"
     "2. Grace Mensah\n3. Tom Byrne\n\nBest regards\nAda Lim\nChairwoman\nWomen's Network "
     "Hannover", "ada.lim@verein.example", "", "register", 3,
     ["Ada Lim", "Grace Mensah", "Tom Byrne"], False),
    ("Guten Tag,\n\nich melde mich zum Forum Arbeit an.\n\nMit freundlichen Grüßen\nAda Lim\n",
     "Lim Ada (SozA) <ada.lim@stadt.example>", "", "register", 1, ["Ada Lim"], False),
    ("hallo ich komm zum forum arbeit mit meinem mann jonas lg ada lim",
     "", "", "register", 2, ["Ada Lim", "Jonas Lim"], False),
    ("hey!! can i still sign up for the forum arbeit?? me and my sister mei would love to come "
     "😊 we both volunteer at the womens cafe\n\nada", "", "", "register", 2,
     ["Ada Lim", "Mei Lim"], False),
    ("Hi 👋 ich und meine kollegin melden uns an fürs forum arbeit!! kollegin heißt Selin Kaya, "
     "mail selin.kaya@verein.example\nthx!!\nAda", "", "", "register", 2,
     ["Ada Lim", "Selin Kaya"], False),
    ("Hi! My husband Kofi and I want to come to the Forum Arbeit 🙂\nIs there some childcare? "
     "If not, my mum can take the kids, no problem.\n\nAda", "", "", "register", 2,
     ["Ada Lim", "Kofi Lim"], True),
    ("Guten Tag,\n\nich möchte mich für das Forum Arbeit anmelden. Meine Kollegin Frau Roth (in "
     "Cc) hatte auch Interesse, kann aber leider nicht - ich komme also allein.\n\nAda Lim",
     "", "Mia Roth <mia.roth@verein.example>", "register", 1, ["Ada Lim"], False),
    ("Hallo,\n\nich bin für das Forum Arbeit am 6.7. schon angemeldet. Ich komme mit dem Auto "
     "aus Celle: Gibt es vor Ort Behindertenparkplätze?\n\nGrüße\nAda Lim",
     "", "", "question", 0, [], True),
    ("Liebe Kolleginnen,\n\nwir vom Frauen- und Mädchennotruf wären gern zu fünft beim Forum "
     "Arbeit dabei. Gibt es Parkplätze?\n\nAda Lim", "", "", "register", 5, ["Ada Lim"], True),
    # the families of unseen14/15, as new mails
    ("Hallo,\n\nich melde mich zum Forum Arbeit an. My German is not so good, so in English: I "
     "come with my colleague Samir Haddad.\n\nYara al-Hamwi", "Yara al-Hamwi <yara@haus.example>",
     "", "register", 2, ["Yara al-Hamwi", "Samir Haddad"], False),
    ("Sehr geehrte Damen und Herren,\n\nzum Forum Arbeit melde ich folgende Kollegen an:\n\n- Herr "
     "Jonas Weber, Sachgebiet Bürgerservice, jonas.weber@stadt.example\n\nIch selbst kann leider "
     "nicht teilnehmen.\n\nMit freundlichen Grüßen\nAda Lim", "", "", "register", 1,
     ["Jonas Weber"], False),
    ("Guten Tag,\n\nzum Forum Arbeit melden wir uns zu zweit an: Neben mir nimmt unser "
     "Sachbearbeiter, Herr Omar bin Said, teil.\n\nMit freundlichen Grüßen\nAda Lim",
     "", "", "register", 2, ["Ada Lim", "Omar bin Said"], False),
    ("Good evening,\n\nI would like to register for the Forum Arbeit. My daughter Brenda would like "
     "to come with me.\n\nEstelle Nkongho", "Estelle Nkongho <estelle@mail.example>", "",
     "register", 2, ["Estelle Nkongho", "Brenda Nkongho"], False),
    ("Dear team,\n\nthank you for confirming my registration for the Forum Arbeit. Could you "
     "please send me an invitation letter for my visa?\n\nAda Lim", "", "", "question", 0, [],
     True),
    ("Hallo,\n\nich würde gern öfter an Ihren Veranstaltungen teilnehmen. Bieten Sie dabei "
     "eine Kinderbetreuung an?\n\nAda Lim", "", "", "question", 0, [], True),
    ("Dear team,\n\nwe register two persons for the Forum Arbeit: Ada Lim (myself) and Tom "
     "Byrne. Also we want to know if there will be a certificate.\n\nAda Lim", "", "",
     "register", 2, ["Ada Lim", "Tom Byrne"], True),
    # the families of unseen16/17, as new mails
    ("Moin,\n\ndat wird leider nix mit dem Forum Arbeit für uns - Hatice und ich müssen "
     "absagen.\n\nSchönen Gruß\nAda", "", "", "cancel", 2, ["Ada Lim", "Hatice"], False),
    ("Guten Tag,\n\ndie am 3. März per Mail erfolgte Anmeldung von Frau Mia Roth zum Forum "
     "Arbeit wird hiermit zurückgezogen.\n\ni. A. Ada Lim", "", "", "cancel", 1, ["Mia Roth"],
     False),
    ("Hi, I am not sure if I can make it, but please put me on the list for the Forum Arbeit "
     "anyway. I will tell you if I can't come.\n\nAda Lim", "", "", "register", 1, ["Ada Lim"],
     False),
    ("Hallo,\n\nich bin für das Forum Arbeit schon angemeldet. Können Sie meine Kollegin Frau "
     "Dr. Mia Roth (mia.roth@verein.example) noch hinzufügen?\n\nAda Lim", "", "", "register", 1,
     ["Mia Roth"], False),
    ("Guten Tag,\n\nunsere Kollegin Frau Roth ist in Elternzeit. An ihrer Stelle wird Herr Jonas "
     "Weber (jonas.weber@verein.example) am Forum Arbeit teilnehmen.\n\nAda Lim", "", "",
     "register", 1, ["Jonas Weber"], False),
    ("hallo\n\nich bin Hodan Warsame von Frauenverein Celle. ich will kommen zu Forum Arbeit. nur "
     "ich, eine Person.\n\ndanke\nHodan", "hodan w <hodan92@mail.example>", "", "register", 1,
     ["Hodan Warsame"], False),
    ("Dear team,\n\nwe register for the Forum Arbeit:\n1. Chief Emeka Nwosu (myself)\n2. Mrs. "
     "Ngozi Nwosu\n\nChief Emeka Nwosu", "Emeka Nwosu <emeka@mail.example>", "", "register", 2,
     ["Emeka Nwosu", "Ngozi Nwosu"], False),
    ("Hola,\n\nwe come to the Forum Arbeit: me and my colleague Ana Lúcia Ferreira da Silva "
     "(analucia@mail.example).\n\nMarisol de la Cruz", "Marisol de la Cruz <marisol@mail.example>",
     "", "register", 2, ["Marisol de la Cruz", "Ana Lúcia Ferreira da Silva"], False),
    # the families of unseen18/19, as new mails
    ("Guten Tag,\n\nich melde mich zum Forum Arbeit an. Fallen Teilnahmegebühren an?\n\nAda Lim",
     "", "", "register", 1, ["Ada Lim"], True),
    ("Hello,\n\nwe are considering coming to the Forum Arbeit. Are travel costs covered?\n\n"
     "Ada Lim", "", "", "question", 0, [], True),
    ("Hello,\n\nI would like to register for the Forum Arbeit. We are a volunteer group, is "
     "there a reduced fee?\n\nAda Lim", "", "", "register", 1, ["Ada Lim"], True),
    ("Hello,\n\nmy colleague Tom Byrne can no longer come to the Forum Arbeit, please cancel his "
     "place. I'll still be there.\n\nAda Lim", "", "", "cancel", 1, ["Tom Byrne"], False),
    ("Guten Tag,\n\nwir hatten uns zu dritt zum Forum Arbeit angemeldet. Frau Mia Roth und Herr "
     "Jonas Weber können leider nicht kommen, ich komme allein.\n\nAda Lim", "", "", "cancel", 2,
     ["Mia Roth", "Jonas Weber"], False),
    ("Hiya,\n\nCould you pop me down for the Forum Arbeit? I'm over from Leeds that week "
     "anyway.\n\nCheers\nAda Lim", "", "", "register", 1, ["Ada Lim"], False),
    ("Sehr geehrte Damen und Herren,\n\nden Termin des Forum Arbeit am 6. Juli, auf den Sie "
     "freundlicherweise früh hingewiesen haben, nehme ich – vorbehaltlich der noch ausstehenden "
     "Genehmigung der Dienstreise – an beiden Tagen wahr.\n\nMit freundlichen Grüßen\nAda Lim",
     "", "", "register", 1, ["Ada Lim"], False),
    ("Sehr geehrte Damen und Herren,\n\nFrau Mia Roth ist in Elternzeit und wird daher nicht "
     "teilnehmen können. An ihrer Stelle wird Herr Jonas Weber (jonas.weber@verein.example) am "
     "Forum Arbeit teilnehmen.\n\nIch selbst bin an dem Tag leider verhindert.\n\ni. A. Ada Lim",
     "", "", "register", 1, ["Jonas Weber"], False),
    ("Guten Tag,\n\nmeine Kollegin Frau Dr. Mia Roth (mia.roth@verein.example) möchte jetzt doch "
     "auch zum Forum Arbeit mitkommen. Können Sie sie noch dazunehmen? Mich haben Sie ja schon."
     "\n\nAda Lim", "", "", "register", 1, ["Mia Roth"], False),
    ("Hello,\n\nthanks for the confirmation. Could you please also add my colleague Tom Byrne "
     "(tom.byrne@verein.example)?\n\nAda Lim", "", "", "register", 1, ["Tom Byrne"], False),
    ("Guten Tag,\n\nich nehme am Forum Arbeit – falls es noch freie Plätze gibt, ich habe die "
     "Einladung nämlich erst gestern bekommen – sehr gern teil.\n\nAda Lim",
     "", "", "register", 1, ["Ada Lim"], False),
]


@pytest.mark.parametrize("body, sender, cc, kind, seats, people, asks", MAILS)
def test_a_mail_of_a_blind_corpus_family_is_read_right(body, sender, cc, kind, seats, people,
                                                      asks):
    i = _mail(body, sender or "Ada Lim <ada.lim@verein.example>", cc)
    got = (i.kind.value, i.party_size, [a.name for a in i.attendees], i.has_question)
    assert got == (kind, seats, people, asks), (body, i.reasons)


@pytest.mark.parametrize("body, org", [
    ("Hi, I want to join the Forum Arbeit. I am working for Korean Women's Association Hannover "
     "in the counselling team.\n\nMin-seo Kim", "Korean Women's Association Hannover"),
    ("Hello, I would like to participate at the Forum Arbeit. I work as officer for refugees in "
     "Ukrainisches Haus Celle.\n\nOlha", "Ukrainisches Haus Celle"),
    ("I would like to register for the Forum Arbeit.\n\nEstelle Nkongho\nPresident, Cameroonian "
     "Women's Network NRW", "Cameroonian Women's Network NRW"),
    ("Ich melde mich zum Forum Arbeit an.\n\nMit freundlichen Grüßen\n\nAda Lim\n"
     "Integrationsbeauftragte\nKreisausschuss des Landkreises Celle\nFachbereich Soziales\n"
     "Markt 1, 29221 Celle", "Kreisausschuss des Landkreises Celle"),
    ("Ich nehme gern am Forum Arbeit teil.\n\nHerzliche Grüße\nAda Lim\nProfessur für Soziale "
     "Arbeit\nFakultät V – Diakonie, Gesundheit und Soziales\nHochschule Hannover",
     "Hochschule Hannover"),
    ("Ich melde mich zum Forum Arbeit an.\n\nFreundliche Grüße\n\nAda Lim\nTeamleitung "
     "Fachdienst Migration\nCaritasverband für Celle e.V.\nMarkt 1 | 29221 Celle\n\n"
     "Caritasverband für Celle e.V. | Vorstand: Dr. Karl Huber, Petra Sommer | Registergericht: "
     "Amtsgericht Celle VR 000", "Caritasverband für Celle e.V."),
    ("Ich melde mich zum Forum Arbeit an.\n\nMit freundlichen Grüßen\nAda Lim\nFrauenbeauftragte"
     "\n\nUniversitätsstadt Gießen\nBüro für Frauenfragen\nBerliner Platz 1, 35390 Gießen\n\n"
     "Diese E-Mail wurde auf Viren geprüft. Informationen zum Datenschutz finden Sie unter "
     "https://www.giessen.example/datenschutz", "Universitätsstadt Gießen"),
    ("Ich möchte mich zum Forum Arbeit anmelden.\n\nViele Grüße\nAda Lim\nDipl.-Psych., "
     "Paarberatung\npro familia Beratungsstelle Fulda\nTel. 0661 555 77",
     "pro familia Beratungsstelle Fulda"),
    ("Hallo!\nIch möchte gern zum Forum Arbeit kommen. Danke!!\nAda\nUkrainischer Verein "
     "Celle e.V.", "Ukrainischer Verein Celle e.V."),
    ("Ich würde gern zum Forum Arbeit kommen.\nCheers\nAda\n\n--\nAda Lim\nCommunity Outreach\n"
     "Casa Italia Celle e.V.", "Casa Italia Celle e.V."),
    ("I'd like to register for the Forum Arbeit.\n\nAda Lim | Equality Office | City of Celle",
     "City of Celle"),
    ("Anmeldung Forum Arbeit\n\nName: Ada Lim\nOrganisation: Frauentreff Celle e.V.\nPersonen: 1\n",
     "Frauentreff Celle e.V."),
])
def test_an_organisation_in_a_sentence_or_a_signature_is_found(body, org):
    assert _mail(body).organization == org
