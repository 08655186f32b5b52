"""`Authorization: Token <key>`: personal keys created from « Mon compte » (extranet.accounts.models.ApiToken)."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from extranet.accounts.models import ApiToken

UNKNOWN_OR_REVOKED = "Jeton invalide ou révoqué."
NO_KEY = "En-tête Authorization invalide : aucune clé après « Token »."
MALFORMED_KEY = "En-tête Authorization invalide : la clé ne doit contenir ni espace ni caractère spécial."
CSRF_REFUSED = (
    "Vérification CSRF échouée : rechargez la page puis réessayez. Un logiciel s'authentifie par un jeton "
    "(« Authorization: Token <clé> »), sans cookie de session."
)
# `last_used_at` is written at most once per interval: no database write on every request.
LAST_USED_PRECISION = timedelta(seconds=60)


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <key>`. Without this header (or with another scheme) it steps aside, so that the
    browser session can authenticate the request."""

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        # The scheme is case-insensitive (RFC 7235), as in DRF's own TokenAuthentication.
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) == 1:
            raise exceptions.AuthenticationFailed(NO_KEY)
        if len(parts) > 2:
            raise exceptions.AuthenticationFailed(MALFORMED_KEY)
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(MALFORMED_KEY) from None
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.active()
            .select_related("user__membership__structure", "user__caissemembership__caisse")
            .filter(digest=ApiToken.digest_of(key))
            .first()
        )
        # Unknown, revoked, or the account's: one answer, so that nothing tells which.
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(UNKNOWN_OR_REVOKED)
        self._note_use(token)
        return token.user, token

    @staticmethod
    def _note_use(token):
        now = timezone.now()
        if token.last_used_at is not None and now - token.last_used_at < LAST_USED_PRECISION:
            return
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
        ).update(last_used_at=now)
        token.last_used_at = now

    def authenticate_header(self, request):
        # A `WWW-Authenticate` challenge: DRF then answers 401 (not 403) to an unauthenticated request.
        return self.keyword


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the scheme in the OpenAPI schema (drf-spectacular)."""

    target_class = "extranet.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "« Token <clé> » : clé créée depuis « Mon compte ».",
        }


class SessionAuthentication(authentication.SessionAuthentication):
    """The browser session, as DRF's, with a French refusal: DRF's says "CSRF Failed: CSRF cookie not set."."""

    def enforce_csrf(self, request):
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied:
            raise exceptions.PermissionDenied(CSRF_REFUSED, code="csrf_failed") from None


class SessionAuthenticationScheme(SessionScheme):
    """drf-spectacular documents DRF's class only, not its subclasses."""

    target_class = "extranet.api.authentication.SessionAuthentication"
