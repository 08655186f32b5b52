from django.urls import path

from extranet.pages.background import views

app_name = "background"

urlpatterns = [path("caisse/taches-de-fond/", views.tasks, name="tasks")]
