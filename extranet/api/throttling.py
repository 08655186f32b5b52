from rest_framework.throttling import SimpleRateThrottle

from extranet.api.models import RateCounter


class PerTokenThrottle(SimpleRateThrottle):
    """A rate per token (each client application of an account counts apart), per account for browser sessions,
    per address for anonymous calls.

    Counted in fixed windows (a minute for "600/minute", starting on the minute) by an atomic increment in the database
    (RateCounter): DRF's own throttle reads the cache then writes it back, so workers running at once overwrite each
    other's counts and let through several times the rate. Refused requests count too; the refusal (429) says in
    Retry-After when the window ends."""

    scope = "token"

    def get_cache_key(self, request, view):
        if request.auth is not None and hasattr(request.auth, "pk"):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        if self.rate is None or (key := self.get_cache_key(request, view)) is None:
            return True
        now = int(self.timer())
        window_start = now - now % self.duration
        self.seconds_left = window_start + self.duration - now
        return RateCounter.objects.hit(key, window_start) <= self.num_requests

    def wait(self):
        return self.seconds_left
