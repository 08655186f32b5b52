from datetime import timedelta

from django.db import connection, models
from django.utils import timezone

# A client's count is kept this long after its last request; the nightly jobs delete older ones.
IDLE_COUNTS_KEPT = timedelta(days=1)


class RateCounterManager(models.Manager):
    def hit(self, key, window_start):
        """Counts one more request of `key` in the window starting at `window_start` and answers the count, in one
        statement: concurrent workers of any server each get their own number (the upsert holds the row's lock), none
        overwrites another's. A new window starts again from 1."""
        table, key_column, window, hits = map(
            connection.ops.quote_name, (self.model._meta.db_table, "key", "window_start", "hits")
        )
        # Table and column names are the model's own; the values are parameters.
        sql = (
            f"INSERT INTO {table} ({key_column}, {window}, {hits}) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT ({key_column}) DO UPDATE SET "
            f"{hits} = CASE WHEN {table}.{window} = excluded.{window} THEN {table}.{hits} + 1 ELSE 1 END, "
            f"{window} = excluded.{window} RETURNING {hits}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, window_start])
            (count,) = cursor.fetchone()
        return count

    def purge(self, now=None):
        """Deletes the counts of the clients idle for a day (revoked tokens, addresses seen once); returns how many."""
        idle_since = (now or timezone.now()) - IDLE_COUNTS_KEPT
        deleted, _ = self.filter(window_start__lt=int(idle_since.timestamp())).delete()
        return deleted


class RateCounter(models.Model):
    """The API's requests of one client (token, account or address) in its current fixed window
    (extranet/api/throttling.py): in the database, the one count every worker of every application server shares."""

    key = models.CharField(max_length=100, unique=True)
    window_start = models.BigIntegerField(help_text="Début de la fenêtre, en secondes depuis 1970 (UTC).")
    hits = models.PositiveIntegerField()

    objects = RateCounterManager()

    def __str__(self):
        return f"{self.key} @ {self.window_start}: {self.hits}"
