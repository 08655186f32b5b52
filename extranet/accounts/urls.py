from django.urls import path

from extranet.accounts import views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", views.LogoutView.as_view(), name="logout"),
    path("activation/<str:secret>/", views.activate, name="activate"),
    path("mot-de-passe-oublie/", views.password_reset, name="password_reset"),
    path("mot-de-passe-oublie/<str:secret>/", views.password_reset_confirm, name="password_reset_confirm"),
    path("compte/", views.account, name="account"),
    path("compte/mot-de-passe/", views.password_change, name="password_change"),
    path("compte/adresse/", views.email_change, name="email_change"),
    path("compte/adresse/confirmer/<str:secret>/", views.email_change_confirm, name="email_change_confirm"),
]
