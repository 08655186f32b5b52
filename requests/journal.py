"""What the access journal keeps of a request's reads, for the pages and the API alike."""

from extranet.audit.models import AccessLog, record_access

Action = AccessLog.Action


def journal_read(user, demande, action, *, attachment=None):
    """A read of the person's data on this request: its page, PDF, MAS sheet or API detail and messages (a contact
    request names nobody: nothing to journal), and every file downloaded, whoever it names."""
    if attachment is None and not demande.has_person:
        return None
    target = f"{demande.number} — pièce n° {attachment.pk}" if attachment is not None else demande.number
    return record_access(user, action, caisse=demande.caisse, request=demande, target=target)


def journal_search(user, results, *, criteria, caisse):
    """A person search: a list of persons is a read of each one listed, so one row per request shown (in one
    insert), in its caisse's journal, saying by which criteria (their names, never the values: no NIR, no name).
    A search that found no one is journaled once, in the caisse searched (`caisse`; none for a partner without an
    active convention, who then has nothing journaled)."""
    how = f"recherche par {criteria}"
    if not results:
        if caisse is not None:
            record_access(user, Action.SEARCH, caisse=caisse, target=f"{how}, aucun résultat")
        return
    AccessLog.objects.bulk_create(
        [
            AccessLog(
                user=user,
                action=Action.SEARCH,
                caisse_id=demande.caisse_id,
                request=demande,
                target=f"{demande.number} — {how}"[:200],
            )
            for demande in results
        ]
    )
