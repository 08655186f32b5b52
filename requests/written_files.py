"""The files an action writes, removed if its transaction does not commit: files are written last in the
transaction (the project's rule), and none is orphaned by a failure. Shared by the services and the files kept
across a form's errors (requests/staging.py), below both."""

import logging
from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction

from requests.models import Attachment

logger = logging.getLogger(__name__)


class WrittenFiles(list):
    """The files an action wrote, and whether its transaction committed: known from the on_commit callback registered
    with the first file, which runs before the action's later callbacks (its emails) can fail."""

    committed = False

    def append(self, file):
        if not self:
            transaction.on_commit(self._commit_seen)
        super().append(file)

    def _commit_seen(self):
        self.committed = True

    def remove_uncommitted(self, error):
        """After a failure: the files whose rows did not commit go. When the failure cut the connection while it
        committed, whether it did is asked of the database afresh; if it cannot tell, the files stay (an orphan file
        costs disk space, a committed request without its files loses the person's documents)."""
        if self.committed or not self:
            return
        names = [stored.name for stored in self]
        if isinstance(error, DatabaseError) and not connection.in_atomic_block:
            try:
                connection.close_if_unusable_or_obsolete()
                kept = set(Attachment.objects.filter(file__in=names).values_list("file", flat=True))
            except DatabaseError:
                logger.exception("Issue du dépôt inconnue : %s fichier(s) gardé(s) sans vérification", len(names))
                return
        else:
            kept = set()
        for stored in self:
            if stored.name not in kept:
                stored.storage.delete(stored.name)


@contextmanager
def files_removed_on_failure():
    """Files are written last in the transaction; if it fails before committing, they are removed so none is
    orphaned. Once it committed they belong to the request, whatever fails after (an email's queueing, say)."""
    written = WrittenFiles()
    try:
        yield written
    except BaseException as error:
        written.remove_uncommitted(error)
        raise
