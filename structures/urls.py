from django.urls import path

from structures import views

app_name = "structures"

urlpatterns = [
    path("caisse/structures/", views.structure_list, name="structure_list"),
    path("caisse/structures/nouvelle/", views.structure_create, name="structure_create"),
    path("caisse/structures/conventionner/", views.structure_add_convention, name="structure_add_convention"),
    path("caisse/structures/<int:pk>/", views.structure_detail, name="structure_detail"),
    path("caisse/structures/<int:pk>/modifier/", views.structure_edit, name="structure_edit"),
    path("caisse/structures/<int:pk>/convention/", views.convention_edit, name="convention_edit"),
    path("caisse/structures/<int:pk>/gestionnaires/nouveau/", views.gestionnaire_create, name="gestionnaire_create"),
    path(
        "caisse/gestionnaires/<int:pk>/desactiver/",
        views.gestionnaire_set_active,
        {"active": False},
        name="gestionnaire_deactivate",
    ),
    path(
        "caisse/gestionnaires/<int:pk>/reactiver/",
        views.gestionnaire_set_active,
        {"active": True},
        name="gestionnaire_reactivate",
    ),
    path("caisse/gestionnaires/<int:pk>/modifier/", views.gestionnaire_edit, name="gestionnaire_edit"),
    path("caisse/gestionnaires/<int:pk>/renvoyer-activation/", views.gestionnaire_resend, name="gestionnaire_resend"),
    path(
        "caisse/gestionnaires/<int:pk>/double-authentification/",
        views.gestionnaire_reset_second_factor,
        name="gestionnaire_reset_second_factor",
    ),
    path("caisse/calendrier/", views.caisse_calendar, name="caisse_calendar"),
    path("caisse/agents/", views.agent_list, name="agent_list"),
    path("caisse/agents/nouveau/", views.agent_create, name="agent_create"),
    path("caisse/agents/<int:pk>/modifier/", views.agent_edit, name="agent_edit"),
    path("caisse/agents/<int:pk>/desactiver/", views.agent_set_active, {"active": False}, name="agent_deactivate"),
    path("caisse/agents/<int:pk>/reactiver/", views.agent_set_active, {"active": True}, name="agent_reactivate"),
    path("caisse/agents/<int:pk>/renvoyer-activation/", views.agent_resend, name="agent_resend"),
    path(
        "caisse/agents/<int:pk>/double-authentification/",
        views.agent_reset_second_factor,
        name="agent_reset_second_factor",
    ),
    path("caisse/administrateurs/", views.administrateur_list, name="administrateur_list"),
    path("caisse/administrateurs/nouveau/", views.administrateur_create, name="administrateur_create"),
    path("caisse/administrateurs/<int:pk>/modifier/", views.administrateur_edit, name="administrateur_edit"),
    path(
        "caisse/administrateurs/<int:pk>/desactiver/",
        views.administrateur_set_active,
        {"active": False},
        name="administrateur_deactivate",
    ),
    path(
        "caisse/administrateurs/<int:pk>/reactiver/",
        views.administrateur_set_active,
        {"active": True},
        name="administrateur_reactivate",
    ),
    path(
        "caisse/administrateurs/<int:pk>/renvoyer-activation/",
        views.administrateur_resend,
        name="administrateur_resend",
    ),
    path(
        "caisse/administrateurs/<int:pk>/double-authentification/",
        views.administrateur_reset_second_factor,
        name="administrateur_reset_second_factor",
    ),
    path("structure/techniciens/", views.technicien_list, name="technicien_list"),
    path("structure/techniciens/nouveau/", views.technicien_create, name="technicien_create"),
    path("structure/techniciens/<int:pk>/modifier/", views.technicien_edit, name="technicien_edit"),
    path(
        "structure/techniciens/<int:pk>/desactiver/",
        views.technicien_set_active,
        {"active": False},
        name="technicien_deactivate",
    ),
    path(
        "structure/techniciens/<int:pk>/reactiver/",
        views.technicien_set_active,
        {"active": True},
        name="technicien_reactivate",
    ),
    path("structure/techniciens/<int:pk>/renvoyer-activation/", views.technicien_resend, name="technicien_resend"),
    path(
        "structure/techniciens/<int:pk>/double-authentification/",
        views.technicien_reset_second_factor,
        name="technicien_reset_second_factor",
    ),
]
