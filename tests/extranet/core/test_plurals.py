import pytest
from django.template import Context, Template

from extranet.core.plurals import quantity


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 place"), (1, "1 place"), (2, "2 places"), (5, "5 places"), (-1, "-1 place"), (-2, "-2 places")],
)
def test_the_singular_below_two(count, expected):
    assert quantity(count, "place") == expected


def test_words_that_agree_give_their_plural():
    assert quantity(1, "gestionnaire actif", "gestionnaires actifs") == "1 gestionnaire actif"
    assert quantity(3, "gestionnaire actif", "gestionnaires actifs") == "3 gestionnaires actifs"


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "0 place · 0 gestionnaire actif"),
        (1, "1 place · 1 gestionnaire actif"),
        (2, "2 places · 2 gestionnaires actifs"),
    ],
)
def test_the_template_filter(count, expected):
    template = Template(
        '{% load plurals %}{{ n|quantity:"place" }} · {{ n|quantity:"gestionnaire actif,gestionnaires actifs" }}'
    )
    assert template.render(Context({"n": count})) == expected
