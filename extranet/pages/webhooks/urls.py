from django.urls import path

from extranet.pages.webhooks import views

app_name = "webhooks"

# The same pages under the structure's and the caisse's addresses; the names say which (webhooks:structure_list…).
SIDES = {"structure": "structure/webhooks/", "caisse": "caisse/webhooks/"}

urlpatterns = []
for side, prefix in SIDES.items():
    urlpatterns += [
        path(prefix, views.endpoint_list, {"side": side}, name=f"{side}_list"),
        path(f"{prefix}nouveau/", views.endpoint_create, {"side": side}, name=f"{side}_create"),
        path(f"{prefix}<int:pk>/", views.endpoint_detail, {"side": side}, name=f"{side}_detail"),
        path(f"{prefix}<int:pk>/secret/", views.endpoint_secret, {"side": side}, name=f"{side}_secret"),
        path(f"{prefix}<int:pk>/renouveler-secret/", views.endpoint_rotate, {"side": side}, name=f"{side}_rotate"),
        path(f"{prefix}<int:pk>/tester/", views.endpoint_test, {"side": side}, name=f"{side}_test"),
        path(
            f"{prefix}<int:pk>/desactiver/",
            views.endpoint_set_active,
            {"side": side, "active": False},
            name=f"{side}_deactivate",
        ),
        path(
            f"{prefix}<int:pk>/reactiver/",
            views.endpoint_set_active,
            {"side": side, "active": True},
            name=f"{side}_reactivate",
        ),
        path(f"{prefix}<int:pk>/supprimer/", views.endpoint_delete, {"side": side}, name=f"{side}_delete"),
    ]
