"""A request's labels (type, status, civility), which the lists write several times a row, are read from a
dictionary made once (requests/models.py) instead of Django's get_FOO_display, which builds it at every call; the
answer is Django's for every value, a value without a label included."""

from functools import partialmethod

import pytest

from requests.models import Request

FIELDS = {"kind": "get_kind_display", "status": "get_status_display", "person_civility": "get_person_civility_display"}


@pytest.mark.parametrize(("name", "method"), FIELDS.items())
def test_labels_are_djangos(name, method):
    field = Request._meta.get_field(name)
    for value in [*(value for value, _ in field.choices), "", "not-a-choice", None]:
        demande = Request(**{name: value})
        assert getattr(demande, method)() == Request._get_FIELD_display(demande, field), value


@pytest.mark.parametrize("method", FIELDS.values())
def test_labels_are_not_djangos_per_call_dictionary(method):
    assert not isinstance(Request.__dict__[method], partialmethod)
