"""Find a person ("Rechercher une personne"): the requests about someone within the user's reach — the caisse's for
its agents, the structure's for its partners (`Request.objects.visible_to`) — by name, birth date or exact NIR.

- Names match by prefix on keys without accents, case, spaces or hyphens (extranet/core/names.py), as a range over
  an index of the scope and the keys: « lefev » finds « LEFÈVRE », « le gall » finds « Le Gall » and « LEGALL ».
- The NIR matches exactly, through its keyed digest (requests/nir.py): the NIR itself is never stored in clear,
  nor compared. It travels by POST only, so the whole form is posted: no criterion is ever in a URL (a GET shows
  the empty form, whatever its query string), the NIR field is never written back into the page, and no message
  quotes it. Only the request's detail page shows a NIR.
- At most RESULT_LIMIT results, by name then newest first (newest first without a name), no COUNT(*): beyond,
  « précisez votre recherche ».
- Each request listed is a read of its person's data: it goes in the access journal (requests/journal.py).
"""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from extranet.core.forms import StyledFormMixin
from extranet.core.names import name_key, prefix_range
from requests.journal import journal_search
from requests.models import Request
from requests.nir import nir_digest, validate_nir
from structures.guards import require_caisse_staff, require_partner
from structures.policy import caisse_membership, partner_membership

RESULT_LIMIT = 50
PERSON_COLUMNS = ("person_civility", "person_last_name", "person_first_name", "person_birth_date")
MIN_NAME_LETTERS = 2
NO_CRITERION = (
    "Saisissez au moins un critère : le nom, la date de naissance ou le numéro de sécurité sociale de la personne."
)
FIRST_NAME_ALONE = "Le prénom seul ne suffit pas : ajoutez le nom ou la date de naissance."
TOO_SHORT = f"Saisissez au moins {MIN_NAME_LETTERS} lettres."
CRITERIA_LABELS = {"last_name": "nom", "first_name": "prénom", "birth_date": "date de naissance", "nir": "NIR"}


class NirInput(forms.TextInput):
    """A text field that never writes its value back into the page (the NIR shows on the detail page only)."""

    def format_value(self, value):
        return None


class PersonSearchForm(StyledFormMixin, forms.Form):
    last_name = forms.CharField(
        label="Nom",
        required=False,
        max_length=150,
        help_text="Le début du nom suffit ; accents, majuscules, espaces et traits d'union sont sans importance.",
    )
    first_name = forms.CharField(label="Prénom", required=False, max_length=150, help_text="Le début suffit.")
    birth_date = forms.DateField(
        label="Date de naissance",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Saisissez une date de naissance valide, par exemple 12/05/1985."},
    )
    nir = forms.CharField(
        label="Numéro de sécurité sociale (NIR)",
        required=False,
        max_length=30,
        widget=NirInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
        help_text="Les 15 caractères, clé comprise : la recherche est exacte. Il n'est pas réaffiché après la "
        "recherche.",
    )

    def _name(self, field):
        value = self.cleaned_data[field].strip()
        if value and len(name_key(value)) < MIN_NAME_LETTERS:
            raise forms.ValidationError(TOO_SHORT, code="too_short")
        return value

    def clean_last_name(self):
        return self._name("last_name")

    def clean_first_name(self):
        return self._name("first_name")

    def clean_nir(self):
        value = self.cleaned_data["nir"]
        return validate_nir(value) if value.strip() else ""

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if not any(data.get(name) for name in CRITERIA_LABELS):
            raise forms.ValidationError(NO_CRITERION, code="no_criterion")
        if data.get("first_name") and not (data.get("last_name") or data.get("birth_date") or data.get("nir")):
            self.add_error("first_name", forms.ValidationError(FIRST_NAME_ALONE, code="first_name_alone"))
        return data

    @property
    def criteria(self):
        """The criteria used, by name (never their values): for the page and the journal."""
        return ", ".join(label for name, label in CRITERIA_LABELS.items() if self.cleaned_data.get(name))


def _prefix(requests, field, value):
    low, high = prefix_range(name_key(value))
    requests = requests.filter(**{f"{field}__gte": low})
    return requests.filter(**{f"{field}__lt": high}) if high else requests


def matching(requests, *, last_name="", first_name="", birth_date=None, nir=""):
    """The requests among `requests` whose person matches every criterion given: by name then newest first when
    a name is searched, newest first otherwise. Each order is one of the scope's indexes (models.py): a name's
    range on the name keys, a birth date or a NIR digest followed by the date of deposit."""
    if last_name:
        requests = _prefix(requests, "person_last_name_key", last_name)
    if first_name:
        requests = _prefix(requests, "person_first_name_key", first_name)
    if birth_date:
        requests = requests.filter(person_birth_date=birth_date)
    if nir:
        requests = requests.filter(person_nir_digest=nir_digest(nir))
    if last_name:
        return requests.order_by("person_last_name_key", "person_first_name_key", "-created_at", "-pk")
    return requests.order_by("-created_at", "-pk")


def _searcher(request):
    """Whom the search is for, and the caisse a search without result is journaled in."""
    if partner_membership(request.user):
        require_partner(request.user)
        return request.caisse_context.current
    if caisse_membership(request.user):
        return require_caisse_staff(request.user).caisse
    raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def search(request):
    """GET: the empty form, whatever the query string (a criterion in a URL is never read). POST: the results."""
    caisse = _searcher(request)
    form = PersonSearchForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "searched": False}
    status = 200
    show_caisse = partner_membership(request.user) is not None
    if request.method == "POST":
        if form.is_valid():
            found = matching(Request.objects.visible_to(request.user), **form.cleaned_data)
            # The caisse's id for the journal; its name only for a partner, whose search spans their structure's
            # caisses (a column of the page): an agent's is one caisse's, read without the join.
            columns = ["number", "kind", "status", "created_at", "caisse", *PERSON_COLUMNS]
            if show_caisse:
                found, columns = found.select_related("caisse"), [*columns, "caisse__name"]
            found = list(found.only(*columns)[: RESULT_LIMIT + 1])
            results = found[:RESULT_LIMIT]
            for row in results:
                # Written here rather than by the template's date filter, twice per row: a common name fills the
                # page (bench: person_search).
                row.born = f"{row.person_birth_date:%d/%m/%Y}" if row.person_birth_date else ""
                row.deposited = f"{timezone.localtime(row.created_at):%d/%m/%Y}"
            journal_search(request.user, results, criteria=form.criteria, caisse=caisse)
            context |= {
                "searched": True,
                "results": results,
                "truncated": len(found) > RESULT_LIMIT,
                "criteria": form.criteria,
                "by_name": bool(form.cleaned_data["last_name"]),
                "result_limit": RESULT_LIMIT,
            }
        else:
            status = 400
    context["show_caisse"] = show_caisse
    return render(request, "requests/search.html", context, status=status)


OTHER_REQUESTS_LIMIT = 10


def same_person(demande, user):
    """The other requests for this request's person (same NIR digest) within the user's reach, newest first: at
    most OTHER_REQUESTS_LIMIT, and whether there are more. One query, on the scope's digest index; none for a
    request naming nobody (a contact, or erased by retention). (rows, more) or None."""
    if not demande.person_nir_digest:
        return None
    rows = list(
        Request.objects.visible_to(user)
        .filter(person_nir_digest=demande.person_nir_digest)
        .exclude(pk=demande.pk)
        .order_by("-created_at", "-pk")
        .only("number", "kind", "status", "created_at")[: OTHER_REQUESTS_LIMIT + 1]
    )
    return rows[:OTHER_REQUESTS_LIMIT], len(rows) > OTHER_REQUESTS_LIMIT
