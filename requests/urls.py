from django.urls import path

from requests import answer_templates, dashboard, drafts, handover, queue, search, views

app_name = "requests"

urlpatterns = [
    path("demandes/", views.history, name="history"),
    path("caisse/demandes/", queue.queue, name="queue"),
    path("caisse/demandes/export.csv", queue.queue_export, name="queue_export"),
    path("recherche/", search.search, name="search"),
    path("demandes/nouvelle/saisine-mas/", views.mas_create, name="mas_create"),
    path("demandes/nouvelle/<slug:slug>/", views.create, name="create"),
    path("brouillons/<int:pk>/supprimer/", drafts.delete, name="draft_delete"),
    path("demandes/<str:number>/", views.detail, name="detail"),
    path("demandes/<str:number>/confirmation/", views.confirmation, name="confirmation"),
    path("demandes/<str:number>/recapitulatif.pdf", views.summary_pdf, name="summary_pdf"),
    path("demandes/<str:number>/pieces/<uuid:public_id>/", views.download_attachment, name="attachment"),
    path("demandes/<str:number>/suivre/", views.toggle_follow, name="follow"),
    path("demandes/<str:number>/prendre-en-charge/", views.take_charge, name="take_charge"),
    path("demandes/<str:number>/resoudre/", views.resolve, name="resolve"),
    path("demandes/<str:number>/reattribuer/", views.reassign, name="reassign"),
    path("demandes/<str:number>/remettre-dans-la-file/", views.hand_back, name="hand_back"),
    path("demandes/<str:number>/attribuer/", views.dispatch, name="dispatch"),
    path("structure/techniciens/<int:pk>/depart/", handover.technicien_departure, name="technicien_departure"),
    path("demandes/<str:number>/messages/", views.post_message, name="post_message"),
    path("demandes/<str:number>/fiche-saisine.pdf", views.mas_sheet, name="mas_sheet"),
    path("demandes/<str:number>/courrier-confirmation/", views.mas_letter_sent, name="mas_letter_sent"),
    path("caisse/modeles-de-reponse/", answer_templates.template_list, name="answer_templates"),
    path("caisse/modeles-de-reponse/nouveau/", answer_templates.template_create, name="answer_template_create"),
    path("caisse/modeles-de-reponse/<int:pk>/modifier/", answer_templates.template_edit, name="answer_template_edit"),
    path(
        "caisse/modeles-de-reponse/<int:pk>/desactiver/",
        answer_templates.template_set_active,
        {"active": False},
        name="answer_template_deactivate",
    ),
    path(
        "caisse/modeles-de-reponse/<int:pk>/reactiver/",
        answer_templates.template_set_active,
        {"active": True},
        name="answer_template_reactivate",
    ),
    path("caisse/tableau-de-bord/", dashboard.caisse_dashboard, name="dashboard"),
    path("structure/tableau-de-bord/", dashboard.structure_dashboard, name="structure_dashboard"),
]
