from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from extranet.accounts import throttling


class LoginThrottleBackend:
    """First backend: counts the attempt before any password is checked and refuses it while locked (the login
    view reads `request.login_lock` to answer with the lockout page, whatever the password). It has no `get_user`:
    it never signs anyone in, so Django never records it as a session's backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        lock = throttling.start_attempt(request, username or kwargs.get(get_user_model().USERNAME_FIELD))
        if lock is not None:
            request.login_lock = lock
            # Stops authenticate() before the other backends: no password is checked.
            raise PermissionDenied
        return None


class EmailBackend(ModelBackend):
    """Login by email, case-insensitive; loads the user's membership with the user (one query per request)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = username or kwargs.get(get_user_model().USERNAME_FIELD)
        if not email or password is None:
            return None
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get(email__iexact=email.strip())
        except user_model.DoesNotExist:
            # Same cost as a real check, so that timing does not tell whether the email exists.
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        user = (
            get_user_model()
            ._default_manager.select_related("membership__structure", "caissemembership__caisse")
            .filter(pk=user_id)
            .first()
        )
        return user if user and self.user_can_authenticate(user) else None
