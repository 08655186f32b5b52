from django import forms

from extranet.core.forms import OnePassSelect


class StructureChoice(forms.Form):
    structure = forms.ChoiceField(
        label="Structure",
        required=False,
        choices=[("", "Toutes les structures"), ("1", "Alpha & <Beta>"), ("2", "Gamma")],
        widget=OnePassSelect,
    )


def test_long_select_renders_like_a_select_escaped_with_the_choice_selected():
    html = str(StructureChoice({"structure": "2"})["structure"])
    assert html.startswith('<select name="structure" id="id_structure">')
    assert '<option value="">Toutes les structures</option>' in html
    assert '<option value="1">Alpha &amp; &lt;Beta&gt;</option>' in html
    assert '<option value="2" selected>Gamma</option>' in html
    assert html.count(" selected") == 1


class MotifChoice(forms.Form):
    motif = forms.ChoiceField(
        label="Motif",
        required=False,
        choices=[
            ("", "Tous les motifs"),
            ("Demande de contact", [("contact:other", "Autre")]),
            ("Difficulté d'accès", [("access:c2s", "C2S"), ("access:other", 'Autre "motif"')]),
        ],
        widget=OnePassSelect(attrs={"class": "form-select"}),
    )


def test_option_groups_and_attributes_render_as_django_would():
    form = MotifChoice({"motif": "access:other"})
    assert str(form["motif"]) == (
        '<select name="motif" class="form-select" id="id_motif">'
        '<option value="">Tous les motifs</option>'
        '<optgroup label="Demande de contact"><option value="contact:other">Autre</option></optgroup>'
        '<optgroup label="Difficulté d&#x27;accès"><option value="access:c2s">C2S</option>'
        '<option value="access:other" selected>Autre &quot;motif&quot;</option></optgroup>'
        "</select>"
    )


def test_nothing_chosen_selects_the_empty_option_only():
    html = str(MotifChoice()["motif"])
    assert '<option value="" selected>Tous les motifs</option>' in html
    assert html.count(" selected") == 1
