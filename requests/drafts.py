"""Drafts of the deposit forms (the kinds' and the MAS referral's): saved by the form's "Enregistrer le brouillon"
button, or by the page itself just before the idle timeout ends the session (static/js/session.js), resumed from the
home page, deleted by the deposit they become, purged 30 days after they were last saved.

A draft keeps what was typed as it was typed: nothing is validated but what the database needs (each value within
its field's length, a text it can store), so that half a form, or a form with mistakes, is never refused. Files are
not kept (the form says so). The NIR goes to its own encrypted column, as on a request, never into `values`."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.forms.utils import ErrorDict
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from extranet.core.text import is_storable
from requests.catalog import MAS_REFERRAL
from requests.forms import MasReferralForm
from requests.models import Draft

# The value of the form's "action" button that saves the draft, the name of the field (and of the page's parameter,
# requests/models.py Draft.get_absolute_url) naming the draft resumed, and the flag the page adds when the session
# is about to end.
SAVE = "brouillon"
PARAMETER = Draft.PARAMETER
SESSION_ENDING = "fin_de_session"
MAX_AGE = timedelta(days=30)
SAVED = "Brouillon enregistré."
SAVED_AT_TIMEOUT = (
    "Votre session a expiré faute d'activité. Votre saisie est enregistrée dans un brouillon : reconnectez-vous pour "
    "la reprendre."
)
TOO_LONG = (
    "Ce champ comporte au plus {limit} caractères (il en compte {length}) : le brouillon n'a pas été enregistré."
)
UNSTORABLE = "Ce champ contient un caractère invalide : le brouillon n'a pas été enregistré."
# Neither the one-time token nor the caisse belongs to a draft: a resumed form gets a new token, and the caisse the
# user works with then.
NOT_KEPT = {"deposit_token", "caisse"}
# A value without a length of its own (a date, a choice) is never longer than this.
OTHER_MAX_LENGTH = 100
# More digits than any key: such a parameter names no draft (and would overflow the database's integer).
MAX_ID_DIGITS = 18


def saving(request):
    return request.method == "POST" and request.POST.get("action") == SAVE


def requested(request, *, kind=None):
    """The user's draft named by the page's address (`?brouillon=`) or its form: of this kind's form, or the MAS
    referral's (kind None). On a page's address, another's draft, or one of another form, does not exist (404). On a
    post, None: the deposit that deleted the draft may be posted again (its one-time token then gives back the
    request deposited)."""
    posted = request.method == "POST"
    raw = (request.POST if posted else request.GET).get(PARAMETER, "")
    if not raw:
        return None
    drafts = Draft.objects.visible_to(request.user)
    if kind is None:
        drafts = drafts.filter(kind=MAS_REFERRAL.kind, motif=MAS_REFERRAL.motif)
    else:
        drafts = drafts.filter(kind=kind).exclude(motif=MAS_REFERRAL.motif)
    valid = raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS
    if posted:
        return drafts.filter(pk=raw).first() if valid else None
    if not valid:
        raise Http404
    return get_object_or_404(drafts, pk=raw)


def initial(draft):
    """The form's initial values: what the draft kept, the NIR included."""
    if draft is None:
        return {}
    return {**draft.values, **({"person_nir": draft.person_nir} if draft.person_nir else {})}


def typed(form):
    """What was typed in the (bound) deposit form, as the draft keeps it: ({field: value}, {field: error}). Only the
    form's own fields, no file, nothing disabled (the detector's name and structure come from the account)."""
    values, errors = {}, {}
    for name, field in form.fields.items():
        if name in NOT_KEPT or field.disabled or isinstance(field, forms.FileField):
            continue
        value = field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
        if isinstance(value, bool):
            if value:
                values[name] = True
            continue
        items = value if isinstance(value, (list, tuple)) else [value]
        items = [item.strip() for item in items if isinstance(item, str) and item.strip()]
        if not items:
            continue
        limit = getattr(field, "max_length", None) or OTHER_MAX_LENGTH
        if error := next(filter(None, (_refusal(item, limit) for item in items)), None):
            errors[name] = error
            continue
        choices = getattr(field, "choices", None)
        if isinstance(value, (list, tuple)):
            # As many as the field offers, at most: a forged post does not fill the database.
            values[name] = list(dict.fromkeys(items))[: len(choices) if choices is not None else 1]
        else:
            values[name] = items[0]
    return values, errors


def _refusal(text, limit):
    if not is_storable(text) or "\x00" in text:
        return UNSTORABLE
    if len(text) > limit:
        return TOO_LONG.format(limit=limit, length=len(text))
    return None


@transaction.atomic
def save_draft(*, author, structure, kind, motif, values, draft=None):
    """A new draft of the author's, or `draft` updated (the author's own: `requested` read it through the scope)."""
    values = dict(values)
    nir = values.pop("person_nir", "")
    now = timezone.now()
    if draft is None:
        draft = Draft(author=author, structure=structure, created_at=now)
    draft.kind, draft.motif, draft.values, draft.person_nir, draft.updated_at = kind, motif, values, nir, now
    draft.save()
    return draft


@transaction.atomic
def delete_draft(draft):
    draft.delete()


def discard_deposited(draft, author):
    """In the deposit's transaction: the draft the request was deposited from is gone with its deposit."""
    if draft is not None:
        Draft.objects.filter(pk=draft.pk, author=author).delete()


def purge_expired_drafts(now=None):
    """The nightly purge: drafts not saved for 30 days go (they hold a person's data). Returns how many."""
    deleted, _ = Draft.objects.filter(updated_at__lt=(now or timezone.now()) - MAX_AGE).delete()
    return deleted


def save_from_form(request, form, *, structure, draft):
    """The "Enregistrer le brouillon" button: the draft saved, then its page again (resumed from it); or None, the
    form showing why not (a value too long), and nothing else: a draft is not a deposit, nothing else is checked.

    Sent by the page just before the session's idle timeout (SESSION_ENDING), the draft is saved and the session
    ended as the timeout would have, and signing in again brings the user back to it."""
    values, errors = typed(form)
    if errors:
        # Only these on the form: the deposit's own checks (required fields…) are not a draft's.
        form._errors, form.cleaned_data = ErrorDict(renderer=form.renderer), {}
        for name, message in errors.items():
            form.add_error(name, message)
        form.mark_invalid_fields()
        return None
    if isinstance(form, MasReferralForm):
        motif = MAS_REFERRAL.motif
    else:
        # A motif of the kind, or none yet: the draft's title and the page it resumes in depend on it.
        chosen = form.spec.motif(values.get("motif", ""))
        motif = chosen.value if chosen is not None else ""
    saved = save_draft(
        author=request.user, structure=structure, kind=form.kind, motif=motif, values=values, draft=draft
    )
    if request.POST.get(SESSION_ENDING):
        logout(request)
        messages.info(request, SAVED_AT_TIMEOUT)
        return redirect_to_login(saved.get_absolute_url())
    messages.success(request, SAVED)
    return redirect(saved.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def delete(request, pk):
    """Delete one of one's drafts, once confirmed (the page asks, the button posts)."""
    draft = get_object_or_404(Draft.objects.visible_to(request.user), pk=pk)
    if request.method == "POST":
        delete_draft(draft)
        messages.success(request, "Brouillon supprimé.")
        return redirect("home")
    return render(request, "requests/draft_delete.html", {"draft": draft})


def home_list(user):
    """The home page's "Brouillons": the user's, last saved first."""
    return Draft.objects.visible_to(user).order_by("-updated_at", "-pk")
