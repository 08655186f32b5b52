from rest_framework.permissions import BasePermission

from extranet.accounts.second_factor import has_second_factor


class SignedInWithSecondFactor(BasePermission):
    """Personal data only for accounts that passed the second factor: a browser session verified in this session,
    a token whose owner has set one up (a token is created from a verified session, or by an operator)."""

    message = (
        "Authentification requise, avec la double authentification : connectez-vous, ou configurez-la depuis "
        "« Mon compte » avant d'utiliser un jeton."
    )
    code = "second_factor_required"

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.auth is not None:
            return has_second_factor(user)
        verified = getattr(request._request.user, "is_verified", None)
        return bool(verified and verified())


class SignedIn(BasePermission):
    """Any signed-in account, second factor or not: only for what concerns the account itself."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)
