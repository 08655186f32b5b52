"""The catalogue (requests/catalog.py) and what reads it agree: the models' choices, each kind's form, the MAS
referral's one motif, the retention settings."""

import pytest
from django.conf import settings
from django.forms import ChoiceField
from django.utils.datastructures import MultiValueDict

from requests.catalog import KINDS, KINDS_BY_SLUG, MAS_REFERRAL, PERSON_FIELDS, PRECISION, Kind, is_mas_referral
from requests.deposit import deposit_form
from requests.forms import DEPOSIT_FORMS, MasReferralForm, RequestForm, deposit_form_class
from requests.models import Request
from requests.retention import POLICY_LABELS
from tests.factories import ConventionFactory, MembershipFactory, RequestFactory, StructureFactory, make_nir
from tests.requests.builders import form_data

# Besides the kind's details: its motif, its files, the caisse it goes to and the form's one-time token
# (test_deposit_once.py).
MOTIF_AND_ATTACHMENTS = {"motif", "attachments", "caisse", "deposit_token"}


def flat(choices):
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            yield from flat(label)
        elif value:
            yield value, label


def test_the_models_kinds_are_the_catalogues():
    assert Kind.choices == [(spec.value, spec.title) for spec in KINDS.values()]
    assert Request._meta.get_field("kind").choices == Kind.choices
    assert Kind.CONTACT == "contact" and Kind.DOCUMENT.label == "Demander un document"
    assert len(KINDS_BY_SLUG) == len(KINDS)


def test_short_labels_fit_one_line_and_tell_kinds_and_motifs_apart():
    """The queue gives a request one line: a kind's and a motif's short labels are short, and no two of a list
    read the same (the full ones stay beside them, requests/kind_label.html)."""
    shorts = [spec.short_label for spec in KINDS.values()]
    assert len(set(shorts)) == len(shorts) and all(0 < len(short) <= 20 for short in shorts)
    for spec in KINDS.values():
        motifs = [motif.short for motif in spec.motifs]
        assert len(set(motifs)) == len(motifs) and all(len(short) <= 30 for short in motifs), spec.value
        assert all(spec.motif_short_display(motif.value) == motif.short for motif in spec.motifs)
    assert KINDS["access_difficulty"].motif_short_display(MAS_REFERRAL.motif) == "Saisine MAS"
    assert KINDS["contact"].motif_short_display("regulatory") == "Réglementaire"  # short already: its label


def test_every_kind_has_its_form_and_nothing_else_does():
    assert set(DEPOSIT_FORMS) == set(KINDS)
    for kind, form_class in DEPOSIT_FORMS.items():
        assert issubclass(form_class, RequestForm) and form_class.kind == kind


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_forms_fields_are_the_catalogues(kind):
    spec, fields = KINDS[kind], DEPOSIT_FORMS[kind].base_fields
    person = {field.name for field in PERSON_FIELDS}
    assert set(fields) - person - MOTIF_AND_ATTACHMENTS == {detail.name for detail in spec.details}
    assert fields["motif"].label == spec.motif_label
    assert list(flat(fields["motif"].choices)) == spec.motif_choices()
    for detail in spec.details:
        field = fields[detail.name]
        assert (field.label, field.required) == (detail.label, detail.required), detail.name
        if detail.choices:
            assert isinstance(field, ChoiceField) and list(field.choices) == list(detail.choices), detail.name
        else:
            assert field.max_length == detail.max_length, detail.name
    for person_field in PERSON_FIELDS:
        field = fields[person_field.name]
        assert (field.label, field.required) == (person_field.label, person_field.required), person_field.name


def motif_submissions():
    slug_of = {spec.value: spec.slug for spec in KINDS.values()}
    for spec in KINDS.values():
        for motif in spec.motifs:
            if not motif.mas_referral:
                yield pytest.param(slug_of[spec.value], spec.value, motif, id=f"{spec.value}-{motif.value}")


@pytest.mark.django_db
@pytest.mark.parametrize(("slug", "kind", "motif"), list(motif_submissions()))
def test_every_motif_of_every_kind_is_accepted_by_its_form_and_deposited(slug, kind, motif, caisse):
    structure = StructureFactory(insured_documents_habilitation=motif.insured_document)
    ConventionFactory(structure=structure, caisse=caisse)
    author = MembershipFactory(structure=structure).user
    data = form_data(slug, motif=motif.value)
    if motif.needs_precision:
        data[PRECISION] = "Précision"
    files = MultiValueDict({"attachments": data.pop("attachments", [])})
    form = deposit_form_class(kind, motif.value)(data, files, structure=structure)
    assert form.is_valid(), form.errors
    deposited = deposit_form(form, structure=structure, author=author)
    assert (deposited.kind, deposited.motif) == (kind, motif.value)
    assert deposited.motif_label == motif.label


@pytest.mark.django_db
def test_the_mas_referral_is_one_motif_with_its_own_form():
    flagged = [(spec.value, motif.value) for spec in KINDS.values() for motif in spec.motifs if motif.mas_referral]
    assert flagged == [(MAS_REFERRAL.kind, MAS_REFERRAL.motif)] == [("access_difficulty", "mas_referral")]
    assert deposit_form_class(MAS_REFERRAL.kind, MAS_REFERRAL.motif) is MasReferralForm
    assert deposit_form_class(MAS_REFERRAL.kind, "rights") is DEPOSIT_FORMS[MAS_REFERRAL.kind]
    assert KINDS[MAS_REFERRAL.kind].details_of(MAS_REFERRAL.motif) == ()
    # Another kind's motif of the same value would not be a referral.
    assert not is_mas_referral("document", MAS_REFERRAL.motif)

    referral = RequestFactory(motif="mas_referral", details={}, person_nir=make_nir(order="001"))
    RequestFactory(motif="rights")
    RequestFactory(contact=True)
    assert list(Request.objects.mas_referrals()) == [referral]
    assert [request.is_mas_referral for request in Request.objects.order_by("pk")] == [True, False, False]


def test_every_precision_motif_has_its_precision_detail():
    for spec in KINDS.values():
        if any(motif.needs_precision for motif in spec.motifs):
            assert spec.detail(PRECISION) is not None and not spec.detail(PRECISION).required, spec.value


def test_retention_has_a_setting_for_each_kind_and_the_mas_referral():
    assert set(POLICY_LABELS) == set(settings.RETENTION_MONTHS) - {"default"}
