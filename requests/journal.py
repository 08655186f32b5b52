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
