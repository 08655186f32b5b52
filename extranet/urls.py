import os

from django.contrib import admin
from django.urls import include, path

from extranet import views

handler400 = "extranet.views.bad_request"
handler404 = "extranet.views.not_found"
handler500 = "extranet.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("caisse/choisir/", views.switch_caisse, name="switch_caisse"),
    path("mentions-legales/", views.legal_page, {"page": "legal_notice"}, name="legal_notice"),
    path("donnees-personnelles/", views.legal_page, {"page": "personal_data"}, name="personal_data"),
    path("accessibilite/", views.legal_page, {"page": "accessibility"}, name="accessibility"),
    path("aide/", views.help_index, name="help"),
    path("aide/<slug:role>/", views.help_guide, name="help_guide"),
    path("", include("extranet.pages.accounts.urls")),
    path("", include("structures.urls")),
    path("", include("requests.urls")),
    path("", include("extranet.pages.audit.urls")),
    path("", include("extranet.pages.background.urls")),
    path("", include("extranet.pages.webhooks.urls")),
    path("api/", include("extranet.api.urls")),
    path("admin-technique/", admin.site.urls),
]

# Benchmark floor view (bench/floor.py): mounted only when bench/run.py starts gunicorn with BENCH_FLOOR_VIEW=1.
if os.environ.get("BENCH_FLOOR_VIEW") == "1":
    from bench.floor import floor

    urlpatterns.append(path("bench/floor/", floor, name="bench_floor"))
