import sys


def test_drf_test_client_imports_despite_our_requests_app():
    import rest_framework.compat
    import rest_framework.test

    assert sys.modules["requests"].__file__.endswith("requests/__init__.py")
    assert rest_framework.compat.requests is None
    assert rest_framework.test.APIClient


def test_api_client_works(client, db):
    from rest_framework.test import APIClient

    response = APIClient().get("/connexion/")
    assert response.status_code == 200
