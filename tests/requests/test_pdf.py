import io
from datetime import UTC, datetime

import pypdf
import pytest
import time_machine

from extranet.core import pdf as pdf_module
from requests import services
from requests.models import Request
from tests.factories import RequestFactory, advance, make_nir
from tests.requests.builders import create_url, form_data, image_bytes, upload
from tests.requests.pdfs import accessibility, font_families, page_of, page_texts, squeeze, structure_tags

HOSTILE = '<img src="file:///etc/passwd"> <link rel=attachment href="file:///etc/passwd"> http://127.0.0.1:1/'
CONFIDENTIAL = "Confidentiel — données personnelles de santé"


def pdf_reader(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return pypdf.PdfReader(io.BytesIO(response.content))


def pdf_text(reader):
    return "\n".join(page.extract_text() for page in reader.pages)


def assert_in_pdf(expected, extracted):
    assert squeeze(expected) in squeeze(extracted), expected


@pytest.mark.django_db
class TestSummaryPdf:
    def test_contains_the_request_the_person_and_the_status_history(
        self, technicien_client, technicien, agent, structure, caisse
    ):
        deposited = RequestFactory(
            structure=structure,
            caisse=caisse,
            author=technicien,
            case_review=True,
            motif="other",
            details={"motif_other": "Aide au transport", "description": "Dossier déposé le 3 février,\nsans réponse."},
            person_civility="mme",
            person_last_name="Lefebvre",
            person_first_name="Jeanne",
            person_birth_date=datetime(1991, 11, 3).date(),
            person_nir=make_nir(sex="2", year="91", month="11", department="2A"),
            person_phone="06 12 34 56 78",
            created_at=datetime(2026, 2, 16, 15, 30, tzinfo=UTC),
        )
        with time_machine.travel(datetime(2026, 2, 17, 8, 5, tzinfo=UTC), tick=False):
            advance(deposited, "in_progress", agent=agent)
        with time_machine.travel(datetime(2026, 2, 20, 13, 45, tzinfo=UTC), tick=False):
            advance(deposited, "resolved")

        extracted = pdf_text(pdf_reader(technicien_client.get(f"/demandes/{deposited.number}/recapitulatif.pdf")))
        agent_name = f"{agent.last_name.upper()} {agent.first_name}"
        author_name = f"{technicien.last_name.upper()} {technicien.first_name}"
        # A grid of labels and values: each row reads "label value".
        for expected in [
            f"Récapitulatif de la demande n° {deposited.number}",
            f"Numéro {deposited.number}",
            "Type Soumettre une demande d'étude de dossier",
            # The status, then who answered: a field each (not "Résolu — en charge : …").
            "Statut Résolu le 20/02/2026",
            f"Résolue par {agent.get_full_name()}",
            "Déposée le 16/02/2026 16h30",
            f"Demandeur {author_name}",
            "Structure Association Alpha",
            "Caisse CPAM de la Gironde",
            "Objet de la demande Autre",
            "Précisez l'objet Aide au transport",
            "Description de la demande Dossier déposé le 3 février, sans réponse.",
            "Nom Madame LEFEBVRE Jeanne",
            "Date de naissance 03/11/1991",
            f"Numéro de sécurité sociale {deposited.formatted_nir}",
            "Téléphone 06 12 34 56 78",
            f"16/02/2026 16h30 Dépôt → Nouveau {author_name}",
            # Taken in charge through the workflow, the row names who has it (as the page's history does).
            f"17/02/2026 09h05 Nouveau → Pris en charge (en charge : {agent.get_full_name()}) {agent_name}",
            f"20/02/2026 14h45 Pris en charge → Résolu {agent_name}",
            "Aucune pièce jointe.",
        ]:
            assert_in_pdf(expected, extracted)
        assert "— en charge" not in extracted

    @pytest.mark.parametrize(
        ("slug", "rows"),
        [
            ("contacter", ["Objet de votre demande Technique", "Rendez-vous souhaité Téléphone"]),
            ("signaler", ["Motif du signalement Droits", "Description de la situation Rupture de droits"]),
            (
                "rendez-vous",
                [
                    "Motif du rendez-vous Complémentaire santé solidaire (C2S)",
                    "La personne a-t-elle besoin d'être accompagnée ? Oui",
                ],
            ),
            ("etude-de-dossier", ["Objet de la demande Protection universelle maladie (PUMa)", "justificatif.pdf"]),
            ("document", ["Document demandé Vaccination", "Précisions Calendrier vaccinal à jour."]),
        ],
    )
    def test_every_kind_has_its_summary(self, technicien_client, slug, rows):
        technicien_client.post(create_url(slug), form_data(slug))
        deposited = Request.objects.get()
        extracted = pdf_text(pdf_reader(technicien_client.get(f"/demandes/{deposited.number}/recapitulatif.pdf")))
        for expected in [f"Récapitulatif de la demande n° {deposited.number}", deposited.get_kind_display(), *rows]:
            assert_in_pdf(expected, extracted)
        if slug != "contacter":
            assert_in_pdf("Nom Monsieur LEFEBVRE-KERMADEC Armandine", extracted)

    def test_attachments_are_listed_not_embedded(self, technicien_client):
        files = [upload("scan carte.png", image_bytes("PNG")), upload("avis.jpg", image_bytes("JPEG"))]
        technicien_client.post(create_url("signaler"), form_data("signaler", files=files))
        reader = pdf_reader(technicien_client.get(f"/demandes/{Request.objects.get().number}/recapitulatif.pdf"))
        extracted = pdf_text(reader)
        assert_in_pdf("scan carte.png (PNG,", extracted)
        assert_in_pdf("avis.jpg (JPEG,", extracted)
        assert dict(reader.attachments) == {}
        assert all(len(page.images) == 0 for page in reader.pages)


@pytest.mark.django_db
class TestAnOfficialDocument:
    """The récapitulatif as a caisse would send it: identity, marking, running header, the answer first, one font
    family, and tagged for assistive technologies (PDF/UA-1)."""

    ANSWER = "Votre dossier a été étudié : l'aide est accordée.\nLe versement interviendra sous quinze jours."

    @pytest.fixture
    def resolved(self, structure, caisse, technicien, agent):
        """A request answered after a long exchange: the récapitulatif runs over several pages."""
        demande = RequestFactory(structure=structure, caisse=caisse, author=technicien)
        advance(demande, "in_progress", agent=agent)
        for index in range(8):
            services.post_message(
                demande,
                author=agent if index % 2 else technicien,
                body=f"Échange n° {index} : " + "pièces justificatives envoyées, dossier en cours d'étude. " * 12,
                internal=False,
                awaiting_answer=False,
                files=[],
            )
        return advance(demande, "resolved", answer=self.ANSWER)

    @pytest.fixture
    def content(self, technicien_client, resolved):
        response = technicien_client.get(f"/demandes/{resolved.number}/recapitulatif.pdf")
        assert response.status_code == 200
        return response.content

    def test_its_first_page_names_the_product_and_the_caisse_with_its_address(self, content, caisse):
        first = page_texts(content)[0]
        for expected in ["Espace Partenaires", caisse.name, *caisse.address_lines, CONFIDENTIAL]:
            assert_in_pdf(expected, first)
        assert len(caisse.address_lines) == 2  # the factory's address: the block is not empty

    def test_the_answer_comes_first_after_the_title(self, content, resolved):
        first = squeeze(page_texts(content)[0])
        title = first.index(squeeze(f"Récapitulatif de la demande n° {resolved.number}"))
        answer = first.index(squeeze("Réponse de la caisse"))
        assert title < answer < first.index(squeeze("La demande"))
        assert squeeze(self.ANSWER) in first[answer:]

    def test_every_page_has_the_running_header_and_the_marking(self, content, resolved):
        texts = page_texts(content)
        assert len(texts) >= 2
        for number, text in enumerate(texts, 1):
            assert_in_pdf(f"Espace Partenaires — récapitulatif de la demande n° {resolved.number}", text)
            assert_in_pdf(f"page {number} / {len(texts)}", text)
            assert_in_pdf(CONFIDENTIAL, text)

    def test_one_font_family_everywhere_the_running_header_and_footer_included(self, content):
        assert font_families(content) == {"DejaVu-Sans"}

    def test_it_is_tagged_pdf_ua_with_its_title_and_language(self, content, resolved):
        title = f"Récapitulatif de la demande n° {resolved.number}"
        assert accessibility(content) == {
            "structure": "/Document",
            "marked": True,
            "lang": "fr",
            "title": title,
            "xmp_title": title,
            "pdf_ua": "1",
            "display_title": True,
        }
        # Headings, paragraphs, and the fields' grid as a table with its row headers.
        assert {"/H1", "/H2", "/P", "/Table", "/TR", "/TH", "/TD"} <= structure_tags(content)

    def test_an_open_request_says_the_answer_is_awaited(self, technicien_client, structure, caisse, technicien):
        demande = RequestFactory(structure=structure, caisse=caisse, author=technicien)
        texts = page_texts(technicien_client.get(f"/demandes/{demande.number}/recapitulatif.pdf").content)
        assert_in_pdf("Réponse de la caisse La caisse n'a pas encore répondu : la demande est « Nouveau ».", texts[0])
        assert page_of(texts, "page 1 / 1") == 1


@pytest.mark.django_db
class TestUserTextInThePdf:
    @pytest.fixture
    def hostile(self, structure, caisse, technicien):
        return RequestFactory(
            structure=structure,
            caisse=caisse,
            author=technicien,
            person_last_name='<img src="file:///etc/hostname">Durand',
            details={"description": HOSTILE},
        )

    def test_markup_stays_literal_text_and_nothing_is_fetched_or_embedded(self, technicien_client, hostile):
        response = technicien_client.get(f"/demandes/{hostile.number}/recapitulatif.pdf")
        reader = pdf_reader(response)
        extracted = pdf_text(reader)
        assert_in_pdf(f"Description de la situation {HOSTILE}", extracted)
        assert_in_pdf('<IMG SRC="FILE:///ETC/HOSTNAME">DURAND', extracted)
        assert dict(reader.attachments) == {}
        assert all(len(page.images) == 0 for page in reader.pages)
        assert b"/EmbeddedFile" not in response.content
        assert b"/URI" not in response.content  # no link annotation either
        assert "root:" not in extracted

    def test_the_pdf_fetches_nothing_even_from_unescaped_html(self, monkeypatch, tmp_path):
        """Defence in depth: should a template ever print raw HTML, WeasyPrint loads no resource and still renders.

        The resources are real local files: had WeasyPrint read them, the PDF would show the image, carry the
        embedded file and use the stylesheet's red text.
        """
        picture = tmp_path / "pixel.png"
        picture.write_bytes(image_bytes("PNG", size=(40, 40)))
        secret = tmp_path / "secret.txt"
        secret.write_text("root:x:0:0:secret")
        stylesheet = tmp_path / "style.css"
        stylesheet.write_text("p::after { content: 'FEUILLE-DE-STYLE-LUE'; }")
        html = (
            f"<html><head><link rel=stylesheet href='{stylesheet.as_uri()}'></head><body><p>Texte</p>"
            f"<img src='{picture.as_uri()}'><img src='http://127.0.0.1:1/pixel.png'>"
            f"<link rel=attachment href='{secret.as_uri()}'>"
            f"<a rel=attachment href='{secret.as_uri()}'>pièce</a></body></html>"
        )
        monkeypatch.setattr(pdf_module, "render_to_string", lambda template, context: html)

        content = pdf_module.render_pdf("requests/pdf/summary.html", {})

        reader = pypdf.PdfReader(io.BytesIO(content))
        extracted = pdf_text(reader)
        assert "Texte" in extracted
        assert "FEUILLE-DE-STYLE-LUE" not in extracted
        assert dict(reader.attachments) == {}
        assert all(len(page.images) == 0 for page in reader.pages)
        assert b"root:x" not in content
