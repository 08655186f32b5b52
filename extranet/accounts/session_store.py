import time

from django.contrib.sessions.backends.db import SessionStore as DBStore

# The two clocks of a signed-in session (extranet/middleware.py ends it when either runs out).
STARTED_AT = "_session_started_at"
LAST_SEEN_AT = "_session_last_seen_at"


def stamp_new_session(sender, request, user, **kwargs):
    """At sign-in: both clocks start, so that the first pages do not have to write the session."""
    now = int(time.time())
    request.session[STARTED_AT] = now
    request.session[LAST_SEEN_AT] = now


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls):
        from extranet.accounts.models import Session

        return Session

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        user_id = data.get("_auth_user_id")
        instance.user_id = int(user_id) if user_id else None
        return instance
