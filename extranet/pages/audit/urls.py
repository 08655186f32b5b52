from django.urls import path

from extranet.pages.audit import views

app_name = "audit"

urlpatterns = [path("caisse/journal-des-acces/", views.journal, name="journal")]
