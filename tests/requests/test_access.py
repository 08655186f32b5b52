import pytest

from requests.models import Attachment, Follow
from tests.factories import CaisseMembershipFactory, ConventionFactory, MembershipFactory, RequestFactory, UserFactory
from tests.requests.builders import pdf_bytes

PAGES = ["detail", "confirmation", "pdf", "attachment", "follow"]


def with_attachment(demande, content=b""):
    from django.core.files.base import ContentFile

    attachment = Attachment(
        request=demande,
        original_name="justificatif.pdf",
        content_type="application/pdf",
        size=len(content or pdf_bytes()),
        sha256="0" * 64,
        uploaded_by=demande.author,
    )
    attachment.file.save("justificatif.pdf", ContentFile(content or pdf_bytes()), save=False)
    attachment.save()
    return attachment


def visit(client, page, demande, attachment):
    number = demande.number
    if page == "follow":
        return client.post(f"/demandes/{number}/suivre/")
    path = {
        "detail": f"/demandes/{number}/",
        "confirmation": f"/demandes/{number}/confirmation/",
        "pdf": f"/demandes/{number}/recapitulatif.pdf",
        "attachment": f"/demandes/{number}/pieces/{attachment.public_id}/",
    }[page]
    return client.get(path)


@pytest.fixture
def deposited(structure, caisse, technicien):
    demande = RequestFactory(structure=structure, caisse=caisse, author=technicien, person_last_name="Confidentiel")
    return demande, with_attachment(demande)


def outsider(name, structure, caisse, other_structure, other_caisse):
    if name == "technicien of a structure of another caisse":
        return MembershipFactory(structure=other_structure).user
    if name == "gestionnaire of a structure of another caisse":
        return MembershipFactory(structure=other_structure, gestionnaire=True).user
    if name == "technicien of another structure of the same caisse":
        return MembershipFactory(structure=ConventionFactory(caisse=caisse).structure).user
    if name == "agent of another caisse":
        return CaisseMembershipFactory(caisse=other_caisse).user
    if name == "admin of another caisse":
        return CaisseMembershipFactory(caisse=other_caisse, admin=True).user
    if name == "deactivated technicien of the structure":
        return MembershipFactory(structure=structure, is_active=False).user
    if name == "deactivated agent of the caisse":
        return CaisseMembershipFactory(caisse=caisse, is_active=False).user
    if name == "account without any role":
        return UserFactory(is_staff=True)
    raise AssertionError(name)


OUTSIDERS = [
    "technicien of a structure of another caisse",
    "gestionnaire of a structure of another caisse",
    "technicien of another structure of the same caisse",
    "agent of another caisse",
    "admin of another caisse",
    "deactivated technicien of the structure",
    "deactivated agent of the caisse",
    "account without any role",
]


def assert_served(response, page):
    if page == "follow":
        assert response.status_code == 302
    else:
        assert response.status_code == 200
    if page == "pdf":
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
    if page == "attachment":
        # Reading the stream to its end closes the file; response.close() would also send request_finished, which
        # closes the test's database connection.
        assert b"".join(response.streaming_content) == pdf_bytes()


@pytest.mark.django_db
class TestWhoSeesARequest:
    @pytest.mark.parametrize("role", ["technicien", "gestionnaire", "agent", "caisse_admin"])
    @pytest.mark.parametrize("page", PAGES)
    def test_members_of_the_structure_and_staff_of_the_caisse(self, client, request, deposited, role, page):
        user = request.getfixturevalue(role)
        client.force_login(user)
        demande, attachment = deposited
        assert_served(visit(client, page, demande, attachment), page)
        if page == "follow":
            assert Follow.objects.filter(user=user, request=demande).exists()

    @pytest.mark.parametrize("who", OUTSIDERS)
    @pytest.mark.parametrize("page", PAGES)
    def test_outsiders_get_404(self, client, deposited, structure, caisse, other_structure, other_caisse, who, page):
        client.force_login(outsider(who, structure, caisse, other_structure, other_caisse))
        demande, attachment = deposited
        response = visit(client, page, demande, attachment)
        assert response.status_code == 404
        assert b"Confidentiel" not in response.content and b"CONFIDENTIEL" not in response.content
        assert not Follow.objects.exists()

    @pytest.mark.parametrize("page", PAGES)
    def test_anonymous_is_sent_to_login(self, client, deposited, page):
        demande, attachment = deposited
        response = visit(client, page, demande, attachment)
        assert response.status_code == 302
        assert response["Location"].startswith("/connexion/?next=")
        assert not Follow.objects.exists()

    @pytest.mark.parametrize("page", PAGES)
    def test_unknown_number_is_404(self, technicien_client, deposited, page):
        demande, attachment = deposited
        demande.number = "2633199999"
        assert visit(technicien_client, page, demande, attachment).status_code == 404

    def test_structure_sees_its_request_to_another_caisse_whatever_the_current_one(
        self, technicien_client, structure, other_caisse, client_factory
    ):
        ConventionFactory(structure=structure, caisse=other_caisse)
        elsewhere = RequestFactory(structure=structure, caisse=other_caisse, number="2642100001")
        attachment = with_attachment(elsewhere)
        # The current caisse is the Gironde (first by code); the request went to the Loire.
        for page in PAGES:
            assert_served(visit(technicien_client, page, elsewhere, attachment), page)

        gironde_agent, loire_agent = client_factory(), client_factory()
        gironde_agent.force_login(
            CaisseMembershipFactory(caisse=structure.conventions.get(caisse__code="331").caisse).user
        )
        loire_agent.force_login(CaisseMembershipFactory(caisse=other_caisse).user)
        for page in PAGES:
            assert visit(gironde_agent, page, elsewhere, attachment).status_code == 404
            assert_served(visit(loire_agent, page, elsewhere, attachment), page)


@pytest.mark.django_db
class TestAttachmentsBelongToTheirRequest:
    def test_another_requests_attachment_is_not_reachable_through_a_visible_number(
        self, technicien_client, deposited, other_structure, other_caisse
    ):
        mine, _ = deposited
        foreign = RequestFactory(structure=other_structure, caisse=other_caisse)
        foreign_attachment = with_attachment(foreign, content=pdf_bytes("secret"))
        response = technicien_client.get(f"/demandes/{mine.number}/pieces/{foreign_attachment.public_id}/")
        assert response.status_code == 404

    def test_attachment_of_a_sibling_request_is_served_only_under_its_own_number(
        self, technicien_client, deposited, structure, caisse
    ):
        first, _ = deposited
        sibling = RequestFactory(structure=structure, caisse=caisse)
        sibling_attachment = with_attachment(sibling, content=pdf_bytes("soeur"))
        assert (
            technicien_client.get(f"/demandes/{first.number}/pieces/{sibling_attachment.public_id}/").status_code
            == 404
        )
        response = technicien_client.get(f"/demandes/{sibling.number}/pieces/{sibling_attachment.public_id}/")
        assert b"".join(response.streaming_content) == pdf_bytes("soeur")


@pytest.mark.django_db
def test_pdf_is_a_download_named_after_the_number(technicien_client, deposited):
    demande, _ = deposited
    response = technicien_client.get(f"/demandes/{demande.number}/recapitulatif.pdf")
    assert response["Content-Disposition"] == f'attachment; filename="demande-{demande.number}.pdf"'
