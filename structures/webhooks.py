"""Whose webhooks a user manages (extranet/notifications/webhooks.py): the pages and the API ask here, and both read
only that owner's endpoints, so that another owner's endpoint is a 404 and a role without webhooks a 403."""

from django.core.exceptions import PermissionDenied

from structures.policy import caisse_membership, can_manage_webhooks, partner_membership


def webhook_owner(user):
    """{"structure": …} or {"caisse": …}: the owner of the endpoints the user manages; PermissionDenied otherwise."""
    if (membership := partner_membership(user)) and can_manage_webhooks(user, structure=membership.structure):
        return {"structure": membership.structure}
    if (staff := caisse_membership(user)) and can_manage_webhooks(user, caisse=staff.caisse):
        return {"caisse": staff.caisse}
    raise PermissionDenied
