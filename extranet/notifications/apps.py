from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "extranet.notifications"
    label = "notifications"
    verbose_name = "Courriels"
