"""Managing webhooks, on the pages and through the API: a gestionnaire for the structure, an administrateur for the
caisse; the secret shown once; another owner's endpoint a 404, any other role a 403."""

import json

import pytest
from django.test import Client

from extranet.notifications import webhooks
from extranet.notifications.models import WebhookDelivery, WebhookEndpoint
from extranet.notifications.webhook_delivery import secret_of
from tests.helpers import api_client

pytestmark = pytest.mark.django_db
EVENTS = [webhooks.STATUS_CHANGED, webhooks.MESSAGE_FROM_CAISSE]


def register(owner, url="https://crochet.exemple.fr/"):
    return webhooks.register(owner=owner, name="Logiciel de suivi", url=url, events=EVENTS, by=None)[0]


class TestPages:
    def test_a_gestionnaire_registers_sees_the_secret_once_and_tests_the_endpoint(
        self, commit, receiver, gestionnaire_client, structure
    ):
        assert gestionnaire_client.get("/structure/webhooks/nouveau/").status_code == 200
        response = gestionnaire_client.post(
            "/structure/webhooks/nouveau/", {"name": "Logiciel de suivi", "url": receiver.url, "events": EVENTS}
        )
        endpoint = WebhookEndpoint.objects.get()
        assert (endpoint.structure, endpoint.caisse, endpoint.events) == (structure, None, sorted(EVENTS))
        assert response.url == f"/structure/webhooks/{endpoint.pk}/secret/"
        page = gestionnaire_client.get(response.url)
        assert "no-store" in page["Cache-Control"]
        secret = page.context["secret"]
        assert secret.startswith("whsec_") and secret in page.content.decode()
        # Once: the next visit goes to the endpoint's page, which never shows it.
        again = gestionnaire_client.get(response.url)
        assert again.url == f"/structure/webhooks/{endpoint.pk}/"
        assert secret not in gestionnaire_client.get(again.url).content.decode()

        with commit():
            assert gestionnaire_client.post(f"/structure/webhooks/{endpoint.pk}/tester/").status_code == 302
        [received] = receiver.received
        assert json.loads(received.body)["event"] == "webhook.test"
        page = gestionnaire_client.get(f"/structure/webhooks/{endpoint.pk}/").content.decode()
        assert "webhook.test" in page and "HTTP 200" in page
        assert "Logiciel de suivi" in gestionnaire_client.get("/structure/webhooks/").content.decode()

    @pytest.mark.parametrize(
        ("url", "message"),
        [
            ("https://10.0.0.5/evenements", "adresse privée"),
            ("https://localhost/evenements", "adresse privée"),
            ("http://crochet.exemple.fr/", "https://"),
        ],
    )
    def test_an_unsafe_address_is_refused_with_its_reason(self, admin_client, url, message):
        response = admin_client.post("/caisse/webhooks/nouveau/", {"name": "Outil", "url": url, "events": EVENTS})
        assert response.status_code == 200
        assert message in " ".join(response.context["form"].errors["url"])
        assert 'aria-invalid="true"' in response.content.decode()
        assert not WebhookEndpoint.objects.exists()

    def test_rotate_deactivate_reactivate_delete(self, admin_client, caisse):
        endpoint = register({"caisse": caisse})
        old = endpoint.sealed_secret
        response = admin_client.post(f"/caisse/webhooks/{endpoint.pk}/renouveler-secret/")
        assert response.url == f"/caisse/webhooks/{endpoint.pk}/secret/"
        secret = admin_client.get(response.url).context["secret"]
        endpoint.refresh_from_db()
        assert endpoint.sealed_secret != old and endpoint.secret_rotated_at is not None
        assert secret_of(endpoint) == secret

        admin_client.post(f"/caisse/webhooks/{endpoint.pk}/desactiver/")
        endpoint.refresh_from_db()
        assert not endpoint.is_active
        admin_client.post(f"/caisse/webhooks/{endpoint.pk}/reactiver/")
        endpoint.refresh_from_db()
        assert endpoint.is_active
        assert admin_client.post(f"/caisse/webhooks/{endpoint.pk}/supprimer/").url == "/caisse/webhooks/"
        assert not WebhookEndpoint.objects.exists()

    @pytest.mark.parametrize(
        "address",
        ["", "{pk}/", "{pk}/secret/", "nouveau/"],
    )
    def test_who_may_see_the_pages(self, client, structure, technicien, agent, gestionnaire, address):
        endpoint = register({"structure": structure})
        url = "/structure/webhooks/" + address.format(pk=endpoint.pk)
        for refused in (technicien, agent):
            client.force_login(refused)
            assert client.get(url).status_code == 403
        client.force_login(gestionnaire)
        assert client.get(url).status_code in (200, 302)
        # The structure's gestionnaire has no webhooks at the caisse's address.
        assert client.get("/caisse/webhooks/").status_code == 403

    @pytest.mark.parametrize("action", ["", "secret/", "renouveler-secret/", "tester/", "desactiver/", "supprimer/"])
    def test_another_structures_endpoint_is_a_404(self, other_gestionnaire, structure, action):
        endpoint = register({"structure": structure})
        client = Client()
        client.force_login(other_gestionnaire)
        method = client.get if action in ("", "secret/") else client.post
        assert method(f"/structure/webhooks/{endpoint.pk}/{action}").status_code == 404
        endpoint.refresh_from_db()
        assert endpoint.is_active and not WebhookDelivery.objects.exists()

    def test_another_caisses_endpoint_is_a_404(self, other_caisse_admin, caisse):
        endpoint = register({"caisse": caisse})
        client = Client()
        client.force_login(other_caisse_admin)
        assert client.get(f"/caisse/webhooks/{endpoint.pk}/").status_code == 404
        assert client.post(f"/caisse/webhooks/{endpoint.pk}/supprimer/").status_code == 404
        assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()

    def test_posts_need_the_csrf_token(self, caisse, caisse_admin):
        endpoint = register({"caisse": caisse})
        client = Client(enforce_csrf_checks=True)
        client.force_login(caisse_admin)
        assert client.post(f"/caisse/webhooks/{endpoint.pk}/supprimer/").status_code == 403
        assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


class TestApi:
    def test_create_list_detail_rotate_deactivate_delete(self, commit, receiver, gestionnaire, structure):
        api = api_client(gestionnaire)
        created = api.post(
            "/api/v1/webhooks/", {"name": "Logiciel de suivi", "url": receiver.url, "events": EVENTS}, format="json"
        )
        assert created.status_code == 201
        body = created.json()
        assert body["secret"].startswith("whsec_")
        assert body["events"] == sorted(EVENTS) and body["is_active"] is True
        pk = body["id"]
        assert [item["id"] for item in api.get("/api/v1/webhooks/").json()] == [pk]
        assert "secret" not in api.get("/api/v1/webhooks/").json()[0]

        receiver.answers = [500]
        with commit():
            tested = api.post(f"/api/v1/webhooks/{pk}/test/")
        assert tested.status_code == 202
        assert (tested.json()["event"], tested.json()["request"]) == ("webhook.test", None)
        detail = api.get(f"/api/v1/webhooks/{pk}/").json()
        assert "secret" not in detail
        [delivery] = detail["deliveries"]
        assert (delivery["event"], delivery["request"], delivery["attempts"]) == ("webhook.test", None, 1)
        assert [attempt["status_code"] for attempt in delivery["attempt_log"]] == [500]
        assert delivery["attempt_log"][0]["response_body"] == "réponse 500"

        rotated = api.post(f"/api/v1/webhooks/{pk}/rotate-secret/").json()
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != body["secret"]
        assert api.post(f"/api/v1/webhooks/{pk}/deactivate/").json()["is_active"] is False
        refused = api.post(f"/api/v1/webhooks/{pk}/test/")
        assert (refused.status_code, refused.json()["code"]) == (409, "webhook_inactive")
        assert api.post(f"/api/v1/webhooks/{pk}/reactivate/").json()["is_active"] is True
        assert api.delete(f"/api/v1/webhooks/{pk}/").status_code == 204
        assert not WebhookEndpoint.objects.exists()

    def test_a_caisse_administrateur_manages_the_caisses(self, caisse_admin, caisse):
        api = api_client(caisse_admin)
        created = api.post(
            "/api/v1/webhooks/",
            {"name": "Outil", "url": "http://127.0.0.1:9/", "events": [webhooks.MESSAGE_FROM_STRUCTURE]},
            format="json",
        )
        assert created.status_code == 201
        assert WebhookEndpoint.objects.get().caisse == caisse

    def test_refusals_have_codes_and_fields(self, gestionnaire):
        api = api_client(gestionnaire)
        private = api.post(
            "/api/v1/webhooks/", {"name": "X", "url": "https://192.168.0.4/", "events": EVENTS}, format="json"
        )
        assert private.status_code == 400
        assert private.json()["code"] == "webhook_address_refused"
        assert "adresse privée" in private.json()["fields"]["url"][0]
        unknown_event = api.post(
            "/api/v1/webhooks/", {"name": "X", "url": "https://8.8.8.8/", "events": ["request.deleted"]}, format="json"
        )
        assert list(unknown_event.json()["fields"]) == ["events"]
        extra = api.post(
            "/api/v1/webhooks/",
            {"name": "X", "url": "https://8.8.8.8/", "events": EVENTS, "secret": "mine"},
            format="json",
        )
        assert (extra.status_code, extra.json()["code"], list(extra.json()["fields"])) == (
            400,
            "unknown_fields",
            ["secret"],
        )
        wrong_type = api.post("/api/v1/webhooks/", {"name": "X", "url": 3, "events": EVENTS}, format="json")
        assert list(wrong_type.json()["fields"]) == ["url"]
        one_event = api.post(
            "/api/v1/webhooks/", {"name": "X", "url": "https://8.8.8.8/", "events": EVENTS[0]}, format="json"
        )
        assert one_event.json()["fields"] == {"events": ["Une liste de noms d'événements est attendue."]}
        assert not WebhookEndpoint.objects.exists()

    def test_a_technicien_or_an_agent_is_refused(self, technicien, agent):
        for user in (technicien, agent):
            response = api_client(user).get("/api/v1/webhooks/")
            assert (response.status_code, response.json()["code"]) == (403, "permission_denied")

    @pytest.mark.parametrize(
        ("method", "action"),
        [("get", ""), ("delete", ""), ("post", "rotate-secret/"), ("post", "deactivate/"), ("post", "test/")],
    )
    def test_another_structures_endpoint_is_a_404(self, other_gestionnaire, structure, method, action):
        endpoint = register({"structure": structure})
        response = getattr(api_client(other_gestionnaire), method)(f"/api/v1/webhooks/{endpoint.pk}/{action}")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
        endpoint.refresh_from_db()
        assert endpoint.is_active and not WebhookDelivery.objects.exists()


def test_check_deploy_refuses_webhooks_in_clear_in_production():
    from tests.extranet.test_security_headers import production_env, run

    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_env(WEBHOOK_ALLOWED_HTTP_HOSTS="crochet.interne"),
    )
    assert result.returncode == 1
    assert "extranet.W001" in result.stderr and "crochet.interne" in result.stderr
