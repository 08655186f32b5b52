from django import forms

from extranet.forms import LongSelect


class StructureChoice(forms.Form):
    structure = forms.ChoiceField(
        label="Structure",
        required=False,
        choices=[("", "Toutes les structures"), ("1", "Alpha & <Beta>"), ("2", "Gamma")],
        widget=LongSelect,
    )


def test_long_select_renders_like_a_select_escaped_with_the_choice_selected():
    html = str(StructureChoice({"structure": "2"})["structure"])
    assert html.startswith('<select name="structure" id="id_structure">')
    assert '<option value="">Toutes les structures</option>' in html
    assert '<option value="1">Alpha &amp; &lt;Beta&gt;</option>' in html
    assert '<option value="2" selected>Gamma</option>' in html
    assert html.count(" selected") == 1
