"""The caisse's canned messages and answers, kept by its administrateurs (`/caisse/modeles-de-reponse/`): list,
create, edit, deactivate and reactivate; never delete. Another caisse's templates do not exist here (404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from requests import canned, services
from requests.forms import AnswerTemplateForm
from requests.models import AnswerTemplate
from structures.guards import require_caisse_admin


def _caisse_templates(request):
    caisse = require_caisse_admin(request.user).caisse
    return caisse, AnswerTemplate.objects.filter(caisse=caisse)


@login_required
def template_list(request):
    caisse, templates = _caisse_templates(request)
    return render(
        request,
        "requests/answer_template_list.html",
        {
            "caisse": caisse,
            "templates": templates.order_by("-is_active", "purpose", "title", "pk"),
            "placeholders": canned.placeholder_help(),
        },
    )


def _form_page(request, form, title=None):
    return render(
        request,
        "requests/answer_template_form.html",
        {"form": form, "title": title, "placeholders": canned.placeholder_help()},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def template_create(request):
    caisse, _ = _caisse_templates(request)
    form = AnswerTemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        template = services.create_answer_template(admin=request.user, caisse=caisse, **form.cleaned_data)
        messages.success(request, f"Le modèle « {template.title} » est enregistré.")
        return redirect("requests:answer_templates")
    return _form_page(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request, pk):
    _, templates = _caisse_templates(request)
    template = get_object_or_404(templates, pk=pk)
    title = template.title  # as stored: validating the form copies what was typed onto the instance
    form = AnswerTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        # The service writes it, under its row lock, from the cleaned values.
        fields = {name: form.cleaned_data[name] for name in services.ANSWER_TEMPLATE_FIELDS}
        template = services.update_answer_template(template, admin=request.user, **fields)
        messages.success(request, f"Le modèle « {template.title} » est mis à jour.")
        return redirect("requests:answer_templates")
    return _form_page(request, form, title)


@login_required
@require_POST
def template_set_active(request, pk, active):
    _, templates = _caisse_templates(request)
    template = services.set_answer_template_active(
        get_object_or_404(templates, pk=pk), admin=request.user, active=active
    )
    messages.success(
        request,
        f"Le modèle « {template.title} » est réactivé."
        if active
        else f"Le modèle « {template.title} » est désactivé : il n'est plus proposé aux agents.",
    )
    return redirect("requests:answer_templates")
