from django.conf import settings
from django.core.management.base import BaseCommand

from requests.retention import POLICY_LABELS, purge_expired_requests


class Command(BaseCommand):
    help = (
        "Efface les données personnelles des demandes résolues depuis plus longtemps que leur durée de "
        "conservation (RETENTION_MONTHS, par type de demande). Sans effet sur les demandes déjà effacées."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Compte sans rien effacer.")

    def handle(self, *args, dry_run=False, **options):
        durations = ", ".join(
            f"{label} {settings.RETENTION_MONTHS.get(key, settings.RETENTION_MONTHS['default'])} mois"
            for key, label in POLICY_LABELS.items()
        )
        self.stdout.write(f"Durées de conservation après résolution : {durations}.")
        report = purge_expired_requests(dry_run=dry_run)
        verb = "seraient effacées" if dry_run else "effacées"
        self.stdout.write(f"Données personnelles {verb} : {report}.")
