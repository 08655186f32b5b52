from django.core.management.base import BaseCommand

from requests.retention import purge_mas_referrals


class Command(BaseCommand):
    help = "Efface les données personnelles des saisines MAS résolues depuis plus de 18 mois."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Compte sans rien effacer.")

    def handle(self, *args, dry_run=False, **options):
        report = purge_mas_referrals(dry_run=dry_run)
        verb = "seraient effacées" if dry_run else "effacées"
        self.stdout.write(f"Données personnelles {verb} : {report}.")
