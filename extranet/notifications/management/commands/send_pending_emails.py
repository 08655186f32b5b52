from django.core.management.base import BaseCommand

from extranet.notifications.delivery import send_pending


class Command(BaseCommand):
    help = "Envoie les courriels en attente (nouvelles tentatives après un échec SMTP)."

    def handle(self, *args, **options):
        self.stdout.write(f"{send_pending()} courriel(s) envoyé(s).")
