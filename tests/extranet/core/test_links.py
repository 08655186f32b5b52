from unittest import mock

import pytest
from django.urls import URLResolver, clear_script_prefix, reverse, set_script_prefix
from hypothesis import given, settings
from hypothesis import strategies as st

from extranet.core.links import object_url

NAMES = ["requests:detail", "requests:follow", "requests:take_charge"]


@pytest.fixture
def script_prefix():
    yield set_script_prefix
    clear_script_prefix()


# No deadline: the first example loads the URLconf.
@settings(deadline=None)
@given(key=st.text(alphabet=st.characters(blacklist_characters="/", blacklist_categories=["Cs"]), min_size=1))
def test_it_is_reverse_for_any_key(key):
    for name in NAMES:
        assert object_url(name, key) == reverse(name, args=[key])


@pytest.mark.parametrize("key", ["2633100001", 2633100001, "a.b_c-d", "é", "a b", "%41", "x?y", "#"])
def test_it_is_reverse_for_plain_and_odd_keys(key):
    for name in NAMES:
        assert object_url(name, key) == reverse(name, args=[key])


def test_each_script_prefix_has_its_pattern(script_prefix):
    plain = object_url("requests:detail", "2633100001")
    script_prefix("/espace/")
    assert object_url("requests:detail", "2633100001") == reverse("requests:detail", args=["2633100001"])
    assert object_url("requests:detail", "2633100001") == "/espace" + plain
    script_prefix("/")
    assert object_url("requests:detail", "2633100001") == plain


def test_a_plain_key_does_not_walk_the_resolver():
    object_url("requests:detail", "1")
    with mock.patch.object(URLResolver, "_reverse_with_prefix", side_effect=AssertionError("reversed")):
        assert object_url("requests:detail", "2633100001") == "/demandes/2633100001/"
