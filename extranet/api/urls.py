from django.urls import path, reverse_lazy
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from extranet.api import views

app_name = "api"

urlpatterns = [
    path("v1/me/", views.MeView.as_view(), name="me"),
    path("v1/kinds/", views.KindList.as_view(), name="kinds"),
    path("v1/requests/", views.RequestListCreate.as_view(), name="request-list"),
    path("v1/requests/<str:number>/", views.RequestDetail.as_view(), name="request-detail"),
    path("v1/requests/<str:number>/take-charge/", views.TakeCharge.as_view(), name="request-take-charge"),
    path("v1/requests/<str:number>/resolve/", views.Resolve.as_view(), name="request-resolve"),
    path("v1/requests/<str:number>/messages/", views.RequestMessages.as_view(), name="request-messages"),
    path("v1/requests/<str:number>/attachments/", views.RequestAttachments.as_view(), name="request-attachments"),
    path(
        "v1/requests/<str:number>/attachments/<uuid:id>/",
        views.RequestAttachment.as_view(),
        name="request-attachment",
    ),
    path("v1/structure/members/", views.Members.as_view(), name="members"),
    path("v1/structure/members/<int:pk>/deactivate/", views.MemberDeactivate.as_view(), name="member-deactivate"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI from the sidecar package's local files, its script apart from the page (CSP without inline). The
    # script's address is the page's own, not the query string it was asked with (written back, it would be logged).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", url_self=reverse_lazy("api:docs")),
        name="docs",
    ),
]
