from django.core.management.base import BaseCommand

from requests.tasks import schedule_daily_retention


class Command(BaseCommand):
    help = "Programme les tâches quotidiennes (rétention des données) dans la file des tâches de fond."

    def handle(self, *args, **options):
        result = schedule_daily_retention()
        if result is None:
            self.stdout.write("Rien à programmer : une exécution est déjà prévue, ou la file n'accepte pas d'horaire.")
        else:
            self.stdout.write(f"Rétention quotidienne programmée pour le {result.task.run_after:%d/%m/%Y à %H:%M}.")
