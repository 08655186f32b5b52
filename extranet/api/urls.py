from django.urls import path, reverse_lazy
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from extranet.api import operations, views, webhooks

app_name = "api"

urlpatterns = [
    path("v1/me/", views.MeView.as_view(), name="me"),
    path("v1/kinds/", views.KindList.as_view(), name="kinds"),
    path("v1/requests/", views.RequestListCreate.as_view(), name="request-list"),
    path("v1/requests/<str:number>/", views.RequestDetail.as_view(), name="request-detail"),
    path("v1/requests/<str:number>/take-charge/", views.TakeCharge.as_view(), name="request-take-charge"),
    path("v1/requests/<str:number>/resolve/", views.Resolve.as_view(), name="request-resolve"),
    path("v1/requests/<str:number>/summary.pdf", operations.SummaryPdf.as_view(), name="request-summary-pdf"),
    path("v1/requests/<str:number>/mas-sheet.pdf", operations.MasSheetPdf.as_view(), name="request-mas-sheet"),
    path("v1/requests/<str:number>/assign/", operations.Assign.as_view(), name="request-assign"),
    path("v1/requests/<str:number>/hand-back/", operations.HandBack.as_view(), name="request-hand-back"),
    path("v1/requests/<str:number>/follow/", operations.FollowRequest.as_view(), name="request-follow"),
    path(
        "v1/requests/<str:number>/mas-letter-sent/", operations.MasLetterSent.as_view(), name="request-mas-letter-sent"
    ),
    path("v1/requests/<str:number>/messages/", views.RequestMessages.as_view(), name="request-messages"),
    path("v1/requests/<str:number>/attachments/", views.RequestAttachments.as_view(), name="request-attachments"),
    path(
        "v1/requests/<str:number>/attachments/<uuid:id>/",
        views.RequestAttachment.as_view(),
        name="request-attachment",
    ),
    path("v1/structure/members/", views.Members.as_view(), name="members"),
    path("v1/structure/members/<int:pk>/deactivate/", views.MemberDeactivate.as_view(), name="member-deactivate"),
    path("v1/structure/members/<int:pk>/reactivate/", operations.MemberReactivate.as_view(), name="member-reactivate"),
    path("v1/caisse/agents/", operations.Agents.as_view(), name="caisse-agents"),
    path("v1/webhooks/", webhooks.Webhooks.as_view(), name="webhooks"),
    path("v1/webhooks/<int:pk>/", webhooks.WebhookDetail.as_view(), name="webhook-detail"),
    path("v1/webhooks/<int:pk>/rotate-secret/", webhooks.WebhookRotateSecret.as_view(), name="webhook-rotate-secret"),
    path(
        "v1/webhooks/<int:pk>/deactivate/", webhooks.WebhookSetActive.as_view(active=False), name="webhook-deactivate"
    ),
    path(
        "v1/webhooks/<int:pk>/reactivate/", webhooks.WebhookSetActive.as_view(active=True), name="webhook-reactivate"
    ),
    path("v1/webhooks/<int:pk>/test/", webhooks.WebhookTest.as_view(), name="webhook-test"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI from the sidecar package's local files, its script apart from the page (CSP without inline). The
    # script's address is the page's own, not the query string it was asked with (written back, it would be logged).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", url_self=reverse_lazy("api:docs")),
        name="docs",
    ),
]
