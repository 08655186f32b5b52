"""Requests end to end in a real browser: deposit each kind, find it in the history, the MAS referral and its
consent, and the caisse the technicien works with."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    APPOINTMENT,
    CASE_REVIEW,
    CONTACT,
    DOCUMENT,
    LEFEBVRE,
    MAS_MOTIF,
    MOREAU,
    NUMBER,
    PETIT,
    SIGNALER,
    described,
    exact_field,
    expect_confirmation,
    expect_header,
    expect_page_basics,
    field,
    fill_access_difficulty,
    fill_appointment,
    fill_case_review,
    fill_contact,
    fill_document,
    fill_person,
    history_rows,
    log_in_directly,
    log_out,
    pdf_file,
    start_request,
)
from tests.factories import make_nir

pytestmark = pytest.mark.browser

YEAR = f"{timezone.localdate().year % 100:02d}"
UDAF = "UDAF de la Gironde — service des tutelles"

CONSENT_MISSING = (
    "Sans l'accord de la personne, la saisine ne peut pas être transmise : indiquez comment son accord a été "
    "recueilli."
)


def go_to_history(page: Page):
    page.get_by_role("link", name="Historique des demandes", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Historique des demandes")


def open_filters(page: Page):
    """The filter panel, folded under its summary when no filter is in force."""
    panel = page.get_by_test_id("filter-panel")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()


def filter_history(page: Page):
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Historique des demandes")


# 1. The technicien deposits each of the five kinds, then finds each one in the history and its detail.

# (offer title = kind shown, how to fill its form, the motif's label and value, the person's name as shown, or None)
DEPOSITS = [
    (CONTACT, fill_contact, ("Objet de votre demande", "Technique"), None),
    (SIGNALER, fill_access_difficulty, ("Motif du signalement", "Droits"), "Monsieur LEFEBVRE Armand"),
    (
        APPOINTMENT,
        fill_appointment,
        ("Motif du rendez-vous", "Complémentaire santé solidaire (C2S)"),
        "Madame MOREAU Lucie",
    ),
    (
        CASE_REVIEW,
        fill_case_review,
        ("Objet de la demande", "Protection universelle maladie (PUMa)"),
        "Monsieur PETIT Jules",
    ),
    (DOCUMENT, fill_document, ("Document demandé", "Attestation de droits"), "Madame ROUX Nadia"),
]


def test_technicien_deposits_each_kind_and_finds_it_in_the_history(page: Page, demo):
    log_in_directly(page, "technicien@demo.example")
    expect(page.get_by_text("Aucune demande déposée auprès de la CPAM de la Gironde pour l'instant.")).to_be_visible()

    numbers = []
    for title, fill, _motif, _person in DEPOSITS:
        start_request(page, title)
        expect(page.get_by_text("Demande adressée à la CPAM de la Gironde.")).to_be_visible()
        fill(page)
        page.get_by_role("button", name="Déposer la demande").click()
        number = expect_confirmation(page, title)
        assert number.startswith(f"{YEAR}331"), number
        numbers.append(number)
    assert len(set(numbers)) == 5
    assert numbers == sorted(numbers)

    # The home page lists the latest ones.
    page.get_by_role("link", name="Accueil", exact=True).click()
    latest = page.get_by_role("region", name="Dernières demandes").get_by_role("listitem")
    expect(latest.first).to_contain_text(numbers[-1])

    go_to_history(page)
    expect_page_basics(page)
    expect(page.get_by_test_id("result-count")).to_have_text("1-5 sur 5 résultats")
    rows = history_rows(page)
    expect(rows).to_have_count(5)
    newest_first = list(reversed(list(zip(numbers, DEPOSITS, strict=True))))
    for row_index, (number, (title, _fill, _motif, person)) in enumerate(newest_first):
        row = rows.nth(row_index)
        expect(row).to_contain_text(number)
        expect(row).to_contain_text(title)
        expect(row.get_by_text("Nouveau", exact=True)).to_be_visible()
        expect(row).to_contain_text("Demandeur LAPIERRE Martine")
        if person:
            expect(row).to_contain_text(f"Personne concernée {person}")
        else:
            expect(row).not_to_contain_text("Personne concernée")

    # Each detail, oldest first.
    for number, (title, _fill, (motif_label, motif), person) in zip(numbers, DEPOSITS, strict=True):
        history_rows(page).filter(has_text=number).get_by_role(
            "link", name=f"Consulter le détail de la demande {number}"
        ).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Demande {number}")
        expect_page_basics(page)
        under_title = page.locator("h1 + p")  # the kind and its status badge
        expect(under_title).to_have_text(f"{title} Nouveau")
        expect(under_title.get_by_text("Nouveau", exact=True)).to_be_visible()
        demande = page.get_by_role("region", name="La demande")
        expect(described(demande, "Type")).to_have_text(title)
        expect(described(demande, "Statut")).to_have_text("Nouveau")
        expect(described(demande, "Structure")).to_have_text(UDAF)
        if person:
            expect(described(page.get_by_role("region", name="Personne concernée"), "Nom")).to_have_text(person)
        else:
            expect(page.get_by_role("heading", name="Personne concernée")).to_have_count(0)
        if title == CASE_REVIEW:
            expect(page.get_by_role("link", name="justificatif.pdf")).to_be_visible()
        # The motif, under the label its form gives it.
        expect(described(demande, motif_label)).to_have_text(motif)
        page.get_by_role("link", name="← Historique des demandes").click()
        expect(page.get_by_test_id("result-count")).to_have_text("1-5 sur 5 résultats")


# 2. Filters and follows in the history.


@pytest.fixture
def gironde_requests(demo):
    """Three requests of the demo UDAF to the CPAM de la Gironde, oldest first, and the technicien."""
    from django.contrib.auth import get_user_model

    from structures.models import Caisse, Structure
    from tests.factories import RequestFactory

    technicien = get_user_model().objects.get(email="technicien@demo.example")
    structure = Structure.objects.get(name=UDAF)
    gironde = Caisse.objects.get(code="331")
    now = timezone.now()
    common = {"structure": structure, "caisse": gironde, "author": technicien}
    return [
        RequestFactory(
            **common,
            appointment=True,
            number=f"{YEAR}33100001",
            person_last_name="Lefebvre",
            person_first_name="Armand",
            created_at=now - timedelta(days=3),
        ),
        RequestFactory(
            **common,
            document=True,
            number=f"{YEAR}33100002",
            person_civility="mme",
            person_last_name="Moreau",
            person_first_name="Lucie",
            created_at=now - timedelta(days=2),
        ),
        RequestFactory(
            **common,
            number=f"{YEAR}33100003",
            person_last_name="Lefebvre",
            person_first_name="Paul",
            person_nir=make_nir(order="321"),
            created_at=now - timedelta(days=1),
        ),
    ]


def listed_numbers(page: Page):
    return [text.strip() for text in history_rows(page).locator(".font-monospace").all_inner_texts()]


def test_history_filters_by_kind_finds_a_person_and_follows_a_request(page: Page, gironde_requests):
    appointment, document, signalement = (item.number for item in gironde_requests)
    log_in_directly(page, "technicien@demo.example")
    go_to_history(page)
    expect(page.get_by_test_id("result-count")).to_have_text("1-3 sur 3 résultats")
    assert listed_numbers(page) == [signalement, document, appointment]

    # By kind, in the filters folded under their summary.
    expect(page.get_by_test_id("filter-panel").locator("summary")).to_have_text("Filtres")
    open_filters(page)
    page.get_by_label("Type de demande", exact=True).select_option(label=DOCUMENT)
    filter_history(page)
    expect(page.get_by_test_id("result-count")).to_have_text("1-1 sur 1 résultat")
    assert listed_numbers(page) == [document]
    expect(page.get_by_test_id("filter-panel").locator("summary")).to_have_text("Filtres (1 actif)")
    expect(page.get_by_label("Type de demande", exact=True).locator("option:checked")).to_have_text(DOCUMENT)
    page.get_by_role("link", name="Effacer les filtres").click()
    expect(page.get_by_test_id("result-count")).to_have_text("1-3 sur 3 résultats")

    # A person is found by the person search, which the history points to (by POST: no name in any URL).
    page.get_by_role("link", name="recherche d'une personne").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rechercher une personne")

    def found(last_name, first_name=""):
        page.get_by_label("Nom", exact=True).fill(last_name)
        page.get_by_label("Prénom", exact=True).fill(first_name)
        with page.expect_navigation():
            page.get_by_role("button", name="Rechercher").click()
        assert "lefebvre" not in page.url.lower()
        rows = page.get_by_test_id("search-row").locator(".font-monospace")
        return [text.strip() for text in rows.all_inner_texts()]

    # By name, then first name (Armand before Paul).
    assert found("lefebvre") == [appointment, signalement]
    assert found("Lefebvre", "Paul") == [signalement]
    assert found("Dupont") == []
    expect(page.get_by_test_id("search-count")).to_have_text("Aucune demande ne correspond à ces critères.")
    go_to_history(page)

    # Following a request: the star is a toggle button, toggled in place.
    star = page.get_by_role("button", name=f"Suivre la demande n° {document}")
    expect(star).to_have_attribute("aria-pressed", "false")
    for number in (appointment, signalement):
        expect(page.get_by_role("button", name=f"Suivre la demande n° {number}")).to_have_attribute(
            "aria-pressed", "false"
        )
    star.click()
    expect(page.locator("[data-follow-status]")).to_have_text(f"Vous suivez la demande {document}.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Historique des demandes")
    expect(page.get_by_role("button", name=f"Suivre la demande n° {document}")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.get_by_role("button", name=f"Suivre la demande n° {appointment}")).to_have_attribute(
        "aria-pressed", "false"
    )

    open_filters(page)
    page.get_by_label("Seulement les demandes que je suis").check()
    filter_history(page)
    expect(page.get_by_test_id("result-count")).to_have_text("1-1 sur 1 résultat")
    assert listed_numbers(page) == [document]
    expect(page.get_by_label("Seulement les demandes que je suis")).to_be_checked()

    # Unfollowed from the filtered list, it stays under the pointer until the list is shown again; the filter stays.
    page.get_by_role("button", name=f"Suivre la demande n° {document}").click()
    expect(page.locator("[data-follow-status]")).to_have_text(f"Vous ne suivez plus la demande {document}.")
    expect(page.get_by_role("button", name=f"Suivre la demande n° {document}")).to_have_attribute(
        "aria-pressed", "false"
    )
    page.reload()
    expect(page.get_by_test_id("result-count")).to_have_text("Aucune demande ne correspond.")
    expect(page.get_by_label("Seulement les demandes que je suis")).to_be_checked()


# 3. The MAS referral, with each way of collecting the person's consent.


def open_mas_form(page: Page):
    start_request(page, SIGNALER)
    expect(page.get_by_text("Pour une saisine de la Mission accompagnement santé")).to_be_visible()
    page.get_by_label(MAS_MOTIF, exact=True).check()
    page.get_by_role("button", name="Déposer la demande").click()
    # The referral's form, in answer to that post (what was typed comes along: tests/browser/test_deposit_forms.py).
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisine de la Mission accompagnement santé (MAS)")
    expect_page_basics(page)
    expect(page.get_by_role("region", name="Notice d'information à donner à la personne")).to_contain_text(
        "conservées au plus 18 mois après la fin de l'accompagnement"
    )
    # The detector is the technicien, prefilled.
    expect(exact_field(page, "Nom et prénom")).to_have_value("Martine LAPIERRE")
    expect(exact_field(page, "Nom et prénom")).to_be_disabled()
    expect(exact_field(page, "Structure")).to_have_value(UDAF)
    expect(exact_field(page, "Adresse électronique")).to_have_value("technicien@demo.example")
    expect(field(page, "Date de la saisine")).to_have_value(timezone.localdate().isoformat())


def transmit(page: Page):
    page.get_by_role("button", name="Transmettre la saisine").click()


def test_mas_referral_detected_remotely_then_the_caisse_sends_the_confirmation_letter(page: Page, demo):
    log_in_directly(page, "technicien@demo.example")
    open_mas_form(page)

    page.get_by_label("Renoncement ou difficultés d'accès à des soins", exact=True).check()
    page.get_by_label("Fragilité face au numérique", exact=True).check()
    fill_person(page, MOREAU)
    page.get_by_label("Dossier de complémentaire santé solidaire", exact=True).check()
    page.get_by_label("Pharmacie", exact=True).check()
    page.get_by_label("Plus d'1 an", exact=True).check()
    page.get_by_label("Transport", exact=True).check()
    page.get_by_label("Détection à distance", exact=True).check()
    page.get_by_label("Je confirme avoir donné à la personne l'information ci-dessus").check()
    transmit(page)

    number = expect_confirmation(page, SIGNALER)
    page.get_by_role("link", name="Consulter la demande").click()
    mas = page.get_by_role("region", name="Saisine de la Mission accompagnement santé")
    expect(mas).to_contain_text("Renoncement ou difficultés d'accès à des soins ; Fragilité face au numérique")
    expect(mas).to_contain_text("Pharmacie")
    expect(mas).to_contain_text("Plus d'1 an")
    expect(mas).to_contain_text("Transport")
    expect(mas).to_contain_text("Détection à distance")
    expect(page.get_by_test_id("letter-task")).to_have_text("À envoyer par la caisse pour confirmer l'accord")
    expect(page.get_by_role("button", name="Courrier de confirmation envoyé")).to_have_count(0)  # caisse only
    log_out(page)

    log_in_directly(page, "agent@demo.example")
    page.goto(f"/demandes/{number}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Demande {number}")
    expect_page_basics(page)
    expect(page.get_by_role("region", name="Personne concernée")).to_contain_text("Madame MOREAU Lucie")
    mas = page.get_by_role("region", name="Saisine de la Mission accompagnement santé")
    expect(mas).to_contain_text("Détection à distance")
    expect(mas).to_contain_text("Martine LAPIERRE (UDAF de la Gironde — service des tutelles)")
    letter = page.get_by_test_id("letter-task")
    expect(letter).to_have_text("À envoyer par la caisse pour confirmer l'accord")

    page.get_by_role("button", name="Courrier de confirmation envoyé").click()
    expect(page.get_by_role("status")).to_contain_text("L'envoi du courrier de confirmation est enregistré.")
    today = timezone.localdate().strftime("%d/%m/%Y")
    expect(letter).to_have_text(f"Envoyé le {today} par Sophie MARCHAND")
    expect(page.get_by_role("button", name="Courrier de confirmation envoyé")).to_have_count(0)


def test_mas_referral_signed_by_the_person_needs_the_signed_sheet(page: Page, demo, tmp_path):
    log_in_directly(page, "technicien@demo.example")
    open_mas_form(page)
    page.get_by_label("Difficultés d'accès aux droits", exact=True).check()
    fill_person(page, LEFEBVRE)
    page.get_by_label("Signée par l'assuré(e)", exact=True).check()
    transmit(page)

    # Without the signed sheet: the error is next to the field, what was typed is kept.
    expect(page.get_by_role("alert")).to_have_text("Le formulaire contient 1 erreur : corrigez les champs signalés.")
    signed_sheet = field(page, "Fiche de saisine signée par la personne")
    error = "Joignez la fiche de saisine signée par la personne."
    expect(signed_sheet).to_have_attribute("aria-invalid", "true")
    expect(signed_sheet).to_have_accessible_description(re.compile(re.escape(error)))
    expect(page.locator("#id_consent_document_error")).to_have_text(error)
    expect(exact_field(page, "Nom")).to_have_value("Lefebvre")
    expect(page.get_by_label("Signée par l'assuré(e)", exact=True)).to_be_checked()
    expect(page.get_by_label("Difficultés d'accès aux droits", exact=True)).to_be_checked()

    # The sheet to have signed, from what is typed.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Télécharger la fiche de saisine (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == "fiche-saisine-mas.pdf"
    saved = tmp_path / "fiche.pdf"
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisine de la Mission accompagnement santé (MAS)")

    signed_sheet.set_input_files(files=pdf_file("fiche-signee.pdf", "Fiche signée"))
    transmit(page)

    expect_confirmation(page, SIGNALER)
    page.get_by_role("link", name="Consulter la demande").click()
    mas = page.get_by_role("region", name="Saisine de la Mission accompagnement santé")
    expect(mas).to_contain_text("Signée par l'assuré(e)")
    expect(mas).to_contain_text("fiche-signee.pdf")
    expect(page.get_by_test_id("letter-task")).to_have_count(0)


def test_mas_referral_without_consent_is_not_transmitted(page: Page, demo):
    log_in_directly(page, "technicien@demo.example")
    open_mas_form(page)
    page.get_by_label("Situation sociale complexe", exact=True).check()
    fill_person(page, PETIT)
    transmit(page)

    expect(page.get_by_role("alert")).to_have_text("Le formulaire contient 1 erreur : corrigez les champs signalés.")
    consent = page.get_by_role("group", name=re.compile(r"^Accord de la personne \(obligatoire\)"))
    expect(consent).to_have_accessible_description(re.compile(re.escape(CONSENT_MISSING)))
    expect(page.locator("#id_consent_mode_error")).to_have_text(CONSENT_MISSING)
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisine de la Mission accompagnement santé (MAS)")

    go_to_history(page)
    expect(page.get_by_test_id("result-count")).to_have_text("Aucune demande ne correspond.")


# 4. The technicien works with the other caisse of their structure.


def test_history_and_numbering_follow_the_caisse_chosen_in_the_header(page: Page, gironde_requests):
    log_in_directly(page, "technicien@demo.example")
    go_to_history(page)
    expect(page.get_by_test_id("result-count")).to_have_text("1-3 sur 3 résultats")

    page.get_by_label("Caisse avec laquelle vous travaillez").select_option(label="CPAM de la Loire")
    page.get_by_role("button", name="Changer").click()
    expect_header(page, "CPAM DE LA LOIRE — Martine LAPIERRE", "Technicien")

    go_to_history(page)
    expect(page.get_by_text("Toutes les demandes de votre structure auprès de la CPAM de la Loire.")).to_be_visible()
    expect(page.get_by_test_id("result-count")).to_have_text("Aucune demande ne correspond.")
    expect(history_rows(page)).to_have_count(0)

    start_request(page, CONTACT)
    expect(page.get_by_text("Demande adressée à la CPAM de la Loire.")).to_be_visible()
    fill_contact(page)
    page.get_by_role("button", name="Déposer la demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre demande est déposée")
    expect(page.get_by_text(f"{CONTACT} — adressée à la CPAM de la Loire")).to_be_visible()
    number = page.get_by_test_id("request-number").inner_text()
    assert NUMBER.match(number), number
    assert number[:2] == YEAR and number[2:5] == "421", number

    go_to_history(page)
    expect(page.get_by_test_id("result-count")).to_have_text("1-1 sur 1 résultat")
    assert listed_numbers(page) == [number]
