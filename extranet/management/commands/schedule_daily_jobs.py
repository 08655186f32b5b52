from django.core.management.base import BaseCommand

from extranet.scheduler import schedule_daily_jobs


class Command(BaseCommand):
    help = "Programme les tâches de chaque nuit (rétention, courriels en attente, récapitulatif des agents)."

    def handle(self, *args, **options):
        result = schedule_daily_jobs()
        if result is None:
            self.stdout.write("Rien à programmer : une exécution est déjà prévue, ou la file n'accepte pas d'horaire.")
        else:
            self.stdout.write(f"Tâches quotidiennes programmées pour le {result.task.run_after:%d/%m/%Y à %H:%M}.")
