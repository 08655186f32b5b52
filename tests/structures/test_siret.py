import pytest
from django.core.exceptions import ValidationError

from structures.forms import StructureCreateForm
from structures.validators import validate_siret
from tests.factories import StructureFactory


@pytest.mark.parametrize("siret", ["73282932000074", "732 829 320 00074", "35600000000048"])
def test_valid_sirets(siret):
    validate_siret(siret)


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        ("73282932000075", "clé de contrôle"),
        ("7328293200007", "14 chiffres"),
        ("7328293200007A", "14 chiffres"),
        ("", "14 chiffres"),
    ],
)
def test_invalid_sirets_are_explained(siret, message):
    with pytest.raises(ValidationError) as error:
        validate_siret(siret)
    assert message in error.value.messages[0]


def form_data(**overrides):
    return {
        "name": "Association Gamma",
        "siret": "732 829 320 00074",
        "kind": "association",
        "headcount": "12",
        "signed_on": "2025-03-01",
        "convention_status": "active",
    } | overrides


@pytest.mark.django_db
def test_form_accepts_spaces_and_stores_digits():
    form = StructureCreateForm(form_data())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["siret"] == "73282932000074"


@pytest.mark.django_db
def test_form_puts_the_error_next_to_the_siret_field():
    form = StructureCreateForm(form_data(siret="73282932000075"))
    assert not form.is_valid()
    assert list(form.errors) == ["siret"]
    assert "clé de contrôle" in form.errors["siret"][0]


@pytest.mark.django_db
def test_form_names_the_existing_structure():
    StructureFactory(siret="73282932000074", name="Association déjà inscrite")
    form = StructureCreateForm(form_data())
    assert not form.is_valid()
    assert "Association déjà inscrite" in form.errors["siret"][0]
