from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "extranet.audit"
    label = "audit"
    verbose_name = "Journal des accès"
