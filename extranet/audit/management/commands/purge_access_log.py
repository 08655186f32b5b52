from django.core.management.base import BaseCommand

from extranet.audit.retention import purge_access_log


class Command(BaseCommand):
    help = "Efface les entrées du journal des accès plus anciennes que la durée de conservation (12 mois)."

    def handle(self, *args, **options):
        self.stdout.write(f"{purge_access_log()} entrée(s) effacée(s).")
