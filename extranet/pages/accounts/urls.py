from django.urls import path

from extranet.pages.accounts import api_token_views, second_factor_views, views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", views.LogoutView.as_view(), name="logout"),
    path("session/prolonger/", views.session_keepalive, name="session_keepalive"),
    path("activation/<str:secret>/", views.activate, name="activate"),
    path("mot-de-passe-oublie/", views.password_reset, name="password_reset"),
    path("mot-de-passe-oublie/<str:secret>/", views.password_reset_confirm, name="password_reset_confirm"),
    path("connexion/verification/", second_factor_views.verify, name="second_factor"),
    path("connexion/verification/renvoyer/", second_factor_views.send_code, name="second_factor_send_code"),
    path("double-authentification/", second_factor_views.setup, name="second_factor_setup"),
    path("double-authentification/application/", second_factor_views.setup_totp, name="second_factor_setup_totp"),
    path("double-authentification/courriel/", second_factor_views.setup_email, name="second_factor_setup_email"),
    path(
        "double-authentification/codes-de-secours/",
        second_factor_views.backup_codes,
        name="second_factor_backup_codes",
    ),
    path(
        "compte/codes-de-secours/",
        second_factor_views.regenerate_backup_codes,
        name="second_factor_regenerate_backup_codes",
    ),
    path("compte/", views.account, name="account"),
    path("compte/jetons-api/", api_token_views.create, name="api_token_create"),
    path("compte/jetons-api/nouveau/", api_token_views.created, name="api_token_created"),
    path("compte/jetons-api/<int:pk>/revoquer/", api_token_views.revoke, name="api_token_revoke"),
    path("compte/mot-de-passe/", views.password_change, name="password_change"),
    path("compte/adresse/", views.email_change, name="email_change"),
    path("compte/adresse/confirmer/<str:secret>/", views.email_change_confirm, name="email_change_confirm"),
]
