"""Login throttling: password failures counted per account, per account and address, and per address.

Within a sliding window (LOGIN_FAILURE_WINDOW), an attempt is refused before any password is checked when
- the account (the email as typed, known or not) has LOGIN_FAILURES_PER_ACCOUNT failures, from any address: it caps
  guessing spread over many addresses;
- the account has LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS failures from this address: one attacker is stopped early
  while the owner, elsewhere, still signs in;
- the address has failures on LOGIN_FAILED_ACCOUNTS_PER_ADDRESS different accounts: a high bar, so that the typos of
  an office behind one router or proxy never reach it, which slows down only guessing across many accounts.
A right password removes the failures of its own account from its own address only: it never clears another
account's, nor what the address did on other accounts, nor what was tried on the account from elsewhere.
Attempts refused while locked are not counted, so a lock ends at the end of the window of the failures that
caused it.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import F, Max
from django.utils import timezone
from django.utils.crypto import salted_hmac

from extranet.accounts.models import LoginFailure


def attempted_email(value):
    """The account an attempt aims at, as the login form would find it: case and spaces do not make a new one."""
    return (value or "").strip().lower()


def account_digest(email):
    return salted_hmac("extranet.accounts.throttling.account", attempted_email(email)).hexdigest()


def client_ip(request):
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        # Each trusted proxy appends the address it saw: the client is `count` entries from the end.
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR")


@dataclass(frozen=True)
class Lock:
    until: datetime
    # The address's limit, reached by failures on many accounts, not by this one's.
    whole_address: bool = False

    @property
    def minutes(self):
        return max(1, math.ceil((self.until - timezone.now()).total_seconds() / 60))

    @property
    def message(self):
        """What helps: waiting, and telling someone if it comes back. A password reset does not lift it (nor
        could it: whoever tries the account does not need its owner's mailbox to keep it locked)."""
        minutes = self.minutes
        wait = f"Réessayez dans {minutes} minute{'s' if minutes > 1 else ''}. "
        if self.whole_address:
            return (
                "De nombreuses connexions à des comptes différents ont échoué depuis votre réseau : par sécurité, "
                "les connexions en sont suspendues. " + wait + "Si cela revient, prévenez le gestionnaire de votre "
                "structure ou l'administrateur de votre caisse : votre réseau est peut-être utilisé pour essayer "
                "des comptes."
            )
        return (
            "Trop de tentatives de connexion ont échoué : par sécurité, la connexion est suspendue. " + wait + "Si "
            "vous avez oublié votre mot de passe, « Mot de passe oublié ? » permet d'en choisir un nouveau, mais "
            "ne lève pas cette suspension. Si elle revient alors que vous ne vous êtes pas trompé, prévenez le "
            "gestionnaire de votre structure ou l'administrateur de votre caisse : quelqu'un essaie peut-être "
            "d'entrer dans votre compte."
        )


def _nth_latest(times, limit):
    """The limit-th most recent of these times, None when there are fewer."""
    found = list(times.order_by("-when").values_list("when", flat=True)[limit - 1 : limit])
    return found[0] if found else None


def current_lock(*, email, address, excluding=None):
    """The lock on an attempt at this account from this address, or None."""
    window = settings.LOGIN_FAILURE_WINDOW
    recent = LoginFailure.objects.filter(created_at__gt=timezone.now() - window)
    if excluding is not None:
        recent = recent.exclude(pk=excluding.pk)
    account = recent.filter(account=account_digest(email)).annotate(when=F("created_at"))
    # Accounts by their latest failure from the address: each counts once, however many typos.
    accounts_from_address = recent.filter(address=address).values("account").annotate(when=Max("created_at"))
    starts = [
        (_nth_latest(account.filter(address=address), settings.LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS), False),
        (_nth_latest(account, settings.LOGIN_FAILURES_PER_ACCOUNT), False),
        (_nth_latest(accounts_from_address, settings.LOGIN_FAILED_ACCOUNTS_PER_ADDRESS), True),
    ]
    locks = [Lock(until=start + window, whole_address=whole) for start, whole in starts if start is not None]
    # The one that lasts longest says how long to wait.
    return max(locks, key=lambda lock: lock.until) if locks else None


def start_attempt(request, email):
    """Counts the attempt as a failure until its password proves right, and returns the lock that refuses it, if
    any (the attempt is then not counted). Written outside any transaction, so that concurrent attempts see it."""
    address = client_ip(request)
    LoginFailure.objects.filter(created_at__lte=timezone.now() - settings.LOGIN_FAILURE_WINDOW).delete()
    failure = LoginFailure.objects.create(account=account_digest(email), address=address)
    lock = current_lock(email=email, address=address, excluding=failure)
    if lock is not None:
        failure.delete()
    return lock


def forget_failures(sender, request, user, **kwargs):
    """`user_logged_in`: the right password clears this account's failures from this address, and nothing else:
    neither another account's, nor what others tried on this account from elsewhere."""
    LoginFailure.objects.filter(account=account_digest(user.get_username()), address=client_ip(request)).delete()
