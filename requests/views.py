from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Value, When
from django.http import FileResponse, Http404, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from extranet.core.pagination import bounded_page, link_query
from requests import canned, documents, drafts, mas, news, policy, search, services, workflow
from requests.catalog import KINDS, KINDS_BY_SLUG, PERSON_FIELD_NAMES, is_mas_referral
from requests.deposit import deposit_form
from requests.filters import HistoryFilter
from requests.forms import (
    DispatchForm,
    MasReferralForm,
    MessageForm,
    ReassignForm,
    ResolveForm,
    TemplateChoiceForm,
    deposit_form_class,
)
from requests.journal import Action, journal_read
from requests.models import AnswerTemplate, Attachment, Follow, Kind, Message, Request, Status
from requests.nir import format_nir
from requests.rows import request_rows
from structures import conventions
from structures.guards import no_convention, require_partner
from structures.models import Caisse
from structures.policy import caisse_membership, partner_membership

PAGE_SIZES = (10, 20, 50)
SORTS = {
    "date": ("created_at", "Date de dépôt"),
    "status": ("status", "Statut"),
    "kind": ("kind", "Type de demande"),
}
# Statuses and kinds sort in the workflow's and the catalogue's order, not the slugs' alphabetical one.
RANKED = {"status": Status, "kind": Kind}


def _rank(field, choices):
    return Case(
        *[When(**{field: value}, then=Value(rank)) for rank, value in enumerate(choices.values)],
        output_field=IntegerField(),
    )


def _history_order(sort, descending):
    """The history's order. The ranks are built only when sorted by them: compiling their CASE on every page read
    by date (nearly all of them) was a measurable share of the page (bench/profile_pages.py)."""
    field = SORTS[sort][0]
    key = _rank(field, RANKED[sort]) if sort in RANKED else F(field)
    return (key.desc() if descending else key.asc()), ("-pk" if descending else "pk")


def _partner_and_caisse(request):
    """The partner's membership and the caisse they work with (None when no convention is active)."""
    return require_partner(request.user), request.caisse_context.current


def _followed_ids(user, requests):
    return set(
        Follow.objects.filter(user=user, request__in=[item.pk for item in requests]).values_list(
            "request_id", flat=True
        )
    )


# What a row of the history shows (requests/rows.py request_rows): not the other columns (the details' JSON, the
# author's password hash and preferences…), read, converted and dropped ten to a hundred times a page.
HISTORY_ROW_FIELDS = (
    "number",
    "kind",
    "status",
    "created_at",
    "awaiting_partner_since",
    "person_civility",
    "person_last_name",
    "person_first_name",
    "person_nir",
    "author__first_name",
    "author__last_name",
)


@login_required
def history(request):
    membership, caisse = _partner_and_caisse(request)
    inactive_conventions = []
    if caisse is not None:
        base = Request.objects.visible_to(request.user).filter(caisse=caisse)
    else:
        # A suspended or ended convention stops the deposits, not the reading: the structure's requests to those
        # caisses stay listed (their details open from the notification emails too), open ones included.
        inactive_conventions = conventions.inactive(membership.structure_id)
        if not inactive_conventions:
            return no_convention(request, membership.structure)
        base = Request.objects.visible_to(request.user).filter(
            caisse__in=[convention.caisse_id for convention in inactive_conventions]
        )
    filterset = HistoryFilter(request.GET or None, queryset=base, structure=membership.structure, user=request.user)
    sort = request.GET.get("tri") if request.GET.get("tri") in SORTS else "date"
    descending = request.GET.get("ordre", "desc") != "asc"
    size = int(request.GET["taille"]) if request.GET.get("taille") in {str(s) for s in PAGE_SIZES} else PAGE_SIZES[0]
    requests = (
        news.with_news(filterset.qs, request.user)
        .select_related("author")
        .only(*HISTORY_ROW_FIELDS)
        .order_by(*_history_order(sort, descending))
    )
    page = bounded_page(requests, request.GET.get("page"), size)
    params = link_query(request.GET, {*filterset.filters, "tri", "ordre", "taille"})
    # Where a star's form brings the user back: this page of the list, with its filters only.
    here = params.copy()
    here["page"] = str(page.number)
    return_to = f"{request.path}?{here.urlencode()}"
    followed = _followed_ids(request.user, page)
    return render(
        request,
        "requests/history.html",
        {
            "filterset": filterset,
            "page": page,
            "rows_html": request_rows(
                page.object_list, followed=followed, next_url=return_to, csrf_token=get_token(request)
            ),
            "sort": sort,
            "descending": descending,
            "size": size,
            "sorts": [(key, label) for key, (_, label) in SORTS.items()],
            "page_sizes": PAGE_SIZES,
            "query": params.urlencode(),
            "active_filters": filterset.active_count(),
            "inactive_conventions": inactive_conventions,
            "structure": membership.structure,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def create(request, slug):
    membership, caisse = _partner_and_caisse(request)
    spec = KINDS_BY_SLUG.get(slug)
    if spec is None:
        raise Http404
    if caisse is None:
        return no_convention(request, membership.structure)
    initial = {}
    if LINKED in request.GET:
        linked = _linked_request(request, spec)
        # The follow-up goes where the request went, which the user may deposit to (the policy read it now).
        caisse = linked.caisse
        if request.method == "GET":
            initial = _linked_initial(linked, spec)
            journal_read(request.user, linked, Action.DETAIL)  # the form shows the person's data
    draft = drafts.requested(request, kind=spec.value)
    form = deposit_form_class(spec.value)(
        request.POST or None,
        request.FILES or None,
        structure=membership.structure,
        initial=initial or drafts.initial(draft),
        staged_by=request.user,
    )
    if drafts.saving(request):
        if saved := drafts.save_from_form(request, form, structure=membership.structure, draft=draft):
            return saved
    elif request.method == "POST" and is_mas_referral(spec.value, request.POST.get("motif")):
        # The referral has its own form: shown in answer to this post, with everything typed so far (never put in
        # an address), and posting to its own page; the draft resumed, if any, goes along.
        form.is_valid()  # the files checked, those that pass kept for the referral
        form.keep_files()
        return _mas_page(request, MasReferralForm.carried_from(form, user=request.user), caisse, draft=draft)
    elif request.method == "POST" and (deposited := _deposited(request, form, membership.structure, draft=draft)):
        return redirect("requests:confirmation", deposited.number)
    sections = [("Votre demande", [form["motif"], *(form[name] for name in form.detail_fields)])]
    if form.has_person:
        sections.append(("Personne concernée", [form[name] for name in PERSON_FIELD_NAMES]))
    sections.append(("Pièces jointes", [form["attachments"]]))
    return render(
        request,
        "requests/request_form.html",
        {
            "form": form,
            "spec": spec,
            "caisse": caisse,
            "sections": sections,
            "page_fields": _page_fields(form, sections),
            "draft": draft,
        },
    )


def _page_fields(form, sections):
    """A deposit form's fields in the order its page shows them, for its error summary (forms/errors_summary.html):
    the caisse at the top (requests/caisse_field.html), then the sections, which do not follow the form's order."""
    return [form["caisse"], *(field for _, fields in sections for field in fields)]


def _deposited(request, form, structure, *, draft):
    """The request the posted form deposits (the draft it was resumed from goes with it); or None (the form in
    error, or the deposit refused), the files that passed the checks then kept for the next try
    (requests/staging.py). The kept files the deposit stored as attachments went with it (requests/services.py)."""
    deposited = deposit_form(form, structure=structure, author=request.user, draft=draft) if form.is_valid() else None
    if deposited is None:
        form.keep_files()
    return deposited


# « Nouvelle demande liée »: the deposit page's parameter naming the resolved request it follows, by its number
# only. The person's data never go in the address (servers and proxies log it): the page reads them from the request.
LINKED = "suite"


def _linked_request(request, spec):
    """The resolved request of this kind that the new one follows, if the user may deposit its follow-up; else 404,
    as for a request they do not see."""
    demande = _visible_request(request, request.GET[LINKED])
    if demande.kind != spec.value or not policy.can_deposit_linked(request.user, demande):
        raise Http404
    return demande


def _linked_initial(demande, spec):
    """The follow-up's form starts with the same person, the same motif (but the MAS referral's, whose form is its
    own) and the previous number in the kind's last free text, which the caisse reads first."""
    initial = {name: getattr(demande, name) for name in PERSON_FIELD_NAMES} if spec.has_person else {}
    if initial:
        initial["person_nir"] = format_nir(demande.person_nir)
    motif = spec.motif(demande.motif)
    if motif is not None and not motif.mas_referral:
        initial["motif"] = motif.value
    reference = next((detail for detail in reversed(spec.details) if detail.free_text), None)
    if reference is not None:
        initial[reference.name] = f"Suite de la demande n° {demande.number} : "
    return initial


def _visible_request(request, number):
    """The request, if this user may see it, whether they follow it and when they last saw it (one query: the
    detail page is hot).

    The scoped queryset matched the partner's own structure, or the agent's own caisse: that one comes from the
    membership read with the user, not from a join."""
    partner = partner_membership(request.user)
    demande = get_object_or_404(
        news.with_last_visit(Request.objects.visible_to(request.user), request.user)
        .select_related("caisse" if partner else "structure", "author", "assigned_to")
        .annotate(following=Exists(Follow.objects.filter(request=OuterRef("pk"), user=request.user))),
        number=number,
    )
    if partner:
        demande.structure = partner.structure
    else:
        demande.caisse = caisse_membership(request.user).caisse
    return demande


@login_required
def detail(request, number):
    demande = _visible_request(request, number)
    journal_read(request.user, demande, Action.DETAIL)
    news.record_visit(user=request.user, demande=demande)
    return _detail_page(request, demande)


def _detail_page(request, demande, *, message_form=None, reassign_form=None, dispatch_form=None, status=200):
    caisse_side = policy.is_caisse_side(request.user, demande)
    staff = policy.can_post_internal_note(request.user, demande)
    context = documents.summary_context(demande) | {
        "following": demande.following,
        "is_caisse_staff": caisse_side,
        "can_mark_letter_sent": policy.can_mark_letter_sent(request.user, demande),
        "exchanges": Message.objects.of_visible_request(demande, request.user)
        .select_related("author")
        .prefetch_related("attachments"),
        # Every file this user may see: the request's own and those of the messages they can read.
        "attachments": Attachment.objects.of_visible_request(demande, request.user),
        # Who the exchange is with, seen from this side.
        "counterpart": demande.structure.name if caisse_side else demande.caisse.name,
    }
    if policy.can_deposit_linked(request.user, demande):
        context["linked_url"] = (
            f"{reverse('requests:create', args=[KINDS[demande.kind].slug])}?{LINKED}={demande.number}"
        )
    if (others := search.same_person(demande, request.user)) is not None:
        context["same_person"], context["same_person_more"] = others
    if demande.is_open and policy.can_use_answer_templates(request.user, demande):
        template_form = _template_form(request, demande, AnswerTemplate.Purpose.MESSAGE, "Modèle de message")
        if message_form is None and (chosen := template_form.chosen()):
            message_form = MessageForm(staff=staff, initial={"body": canned.fill(chosen.body, demande)})
        context["template_form"] = template_form
    context["message_form"] = message_form or MessageForm(staff=staff)
    if caisse_side:
        moves = workflow.available_moves(demande, request.user)
        context |= {
            "can_take_charge": "take_charge" in moves,
            "can_resolve": "resolve" in moves,
            "can_reassign": "reassign" in moves,
            "reassign_form": reassign_form or ReassignForm(caisse=demande.caisse),
            "can_hand_back": "hand_back" in moves,
            "can_dispatch": "dispatch" in moves,
        }
        if "dispatch" in moves:
            context["dispatch_form"] = dispatch_form or DispatchForm(caisse=demande.caisse)
    return render(request, "requests/detail.html", context, status=status)


def _template_form(request, demande, purpose, label):
    """The canned texts the agent may start from (one query), and the one asked for by `?modele=`, if any."""
    templates = list(canned.usable(demande, purpose))
    data = request.GET if "modele" in request.GET else None
    return TemplateChoiceForm(data, templates=templates, label=label)


def _staff_request(request, number):
    """A request of the agent's caisse; partners and others get a 404 for these actions."""
    demande = _visible_request(request, number)
    if not policy.is_caisse_side(request.user, demande):
        raise Http404
    return demande


def _act(request, number, action, success):
    """Run a workflow service, then tell its outcome on the request's page. The request may have moved
    meanwhile, so the page may no longer show the form: a refusal is a message, which it always shows."""
    try:
        action()
    except services.WorkflowRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, success)
    return redirect("requests:detail", number)


@login_required
@require_POST
def take_charge(request, number):
    demande = _staff_request(request, number)
    return _act(
        request,
        number,
        lambda: services.take_charge(demande, agent=request.user),
        f"Vous avez pris en charge la demande {number}.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def resolve(request, number):
    """The resolution as its own step: the answer written (or started from a canned answer), previewed as the
    structure will read it, then confirmed with its files. Only `confirm` resolves; any other post shows the
    preview (or the answer to correct), so that nothing irreversible happens by one click."""
    demande = _staff_request(request, number)
    if refused := workflow.refusal(demande, "resolve", request.user):
        messages.error(request, str(refused))
        return redirect("requests:detail", number)
    if request.method == "GET":
        template_form = _template_form(request, demande, AnswerTemplate.Purpose.ANSWER, "Modèle de réponse")
        initial = {}
        if chosen := template_form.chosen():
            initial["answer"] = canned.fill(chosen.body, demande)
            journal_read(request.user, demande, Action.DETAIL)  # the text may now name the person
        return _resolve_page(request, demande, form=ResolveForm(initial=initial), template_form=template_form)
    if "confirm" in request.POST:
        form = ResolveForm(request.POST, request.FILES, confirming=True)
        if not form.is_valid():
            preview = "answer" not in form.errors
            return _resolve_page(request, demande, form=form if preview else ResolveForm(request.POST), status=400)
        return _act(
            request,
            number,
            lambda: services.resolve(
                demande,
                agent=request.user,
                answer=form.cleaned_data["answer"],
                files=form.cleaned_data["attachments"],
            ),
            f"La demande {number} est résolue ; la structure est prévenue.",
        )
    form = ResolveForm(request.POST)
    valid = form.is_valid()
    if "edit" in request.POST or not valid:
        # Back to the writing, with the text as typed (or its errors).
        form = ResolveForm(initial={"answer": request.POST.get("answer", "")}) if valid else form
        template_form = _template_form(request, demande, AnswerTemplate.Purpose.ANSWER, "Modèle de réponse")
        return _resolve_page(request, demande, form=form, template_form=template_form, status=200 if valid else 400)
    return _resolve_page(
        request, demande, form=ResolveForm(initial={"answer": form.cleaned_data["answer"]}, confirming=True)
    )


def _resolve_page(request, demande, *, form, template_form=None, status=200):
    """Writing the answer (`form` shows the text), or its preview and confirmation (`form` is confirming)."""
    confirming = "attachments" in form.fields
    return render(
        request,
        "requests/resolve.html",
        {
            "demande": demande,
            "form": form,
            "template_form": template_form,
            "confirming": confirming,
            "answer": form["answer"].value() if confirming else "",
            "now": timezone.now(),
        },
        status=status,
    )


@login_required
@require_POST
def reassign(request, number):
    demande = _staff_request(request, number)
    form = ReassignForm(request.POST, caisse=demande.caisse)
    if not form.is_valid():
        return _detail_page(request, demande, reassign_form=form, status=400)
    agent = form.cleaned_data["agent"]
    return _act(
        request,
        number,
        lambda: services.reassign(demande, admin=request.user, agent=agent),
        f"La demande {number} est confiée à {agent.get_full_name()}.",
    )


@login_required
@require_POST
def hand_back(request, number):
    demande = _staff_request(request, number)
    return _act(
        request,
        number,
        lambda: services.hand_back(demande, agent=request.user),
        f"La demande {number} est remise dans la file des nouvelles demandes.",
    )


@login_required
@require_POST
def dispatch(request, number):
    demande = _staff_request(request, number)
    form = DispatchForm(request.POST, caisse=demande.caisse)
    if not form.is_valid():
        return _detail_page(request, demande, dispatch_form=form, status=400)
    agent = form.cleaned_data["agent"]
    return _act(
        request,
        number,
        lambda: services.dispatch(demande, admin=request.user, agent=agent),
        f"La demande {number} est attribuée à {agent.get_full_name()}.",
    )


@login_required
@require_POST
def post_message(request, number):
    demande = _visible_request(request, number)
    form = MessageForm(
        request.POST,
        request.FILES,
        staff=policy.can_post_internal_note(request.user, demande),
        action=request.POST.get("action"),
    )
    if not form.is_valid():
        return _detail_page(request, demande, message_form=form, status=400)
    internal = form.cleaned_data["internal"]
    return _act(
        request,
        number,
        lambda: services.post_message(
            demande,
            author=request.user,
            body=form.cleaned_data["body"],
            internal=internal,
            awaiting_answer=form.cleaned_data["awaiting_answer"],
            files=form.cleaned_data["attachments"],
        ),
        "Votre note interne est enregistrée : seuls les agents de la caisse la voient."
        if internal
        else "Votre message est envoyé : la demande attend la réponse de la structure."
        if form.cleaned_data["awaiting_answer"]
        else "Votre message est envoyé.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def mas_create(request):
    membership, caisse = _partner_and_caisse(request)
    if caisse is None:
        return no_convention(request, membership.structure)
    draft = drafts.requested(request)
    form = MasReferralForm(
        request.POST or None,
        request.FILES or None,
        structure=membership.structure,
        user=request.user,
        initial=drafts.initial(draft),
        staged_by=request.user,
    )
    if drafts.saving(request):
        if saved := drafts.save_from_form(request, form, structure=membership.structure, draft=draft):
            return saved
    elif request.method == "POST" and request.POST.get("action") == "fiche":
        # The sheet to print and have signed, from what is typed so far: nothing is validated nor saved.
        typed = request.POST.copy()
        typed["detector_name"], typed["detector_structure"] = request.user.get_full_name(), membership.structure.name
        # The caisse context holds the caisse's id, code and name only: the sheet prints its address too.
        addressee = Caisse.objects.get(pk=caisse.pk)
        return documents.pdf_response(
            documents.render_mas_sheet(mas.sheet_values(typed), caisse=addressee), "fiche-saisine-mas.pdf"
        )
    elif request.method == "POST" and (deposited := _deposited(request, form, membership.structure, draft=draft)):
        return redirect("requests:confirmation", deposited.number)
    return _mas_page(request, form, caisse, draft=draft)


def _mas_page(request, form, caisse, *, draft):
    sections = form.page_sections()  # (title, shown when, [(field, shown when)])
    return render(
        request,
        "requests/mas_form.html",
        {
            "form": form,
            "caisse": caisse,
            "sections": sections,
            "page_fields": _page_fields(form, [(title, [f for f, _ in fields]) for title, _, fields in sections]),
            "notice_template": mas.NOTICE_TEMPLATE,
            "draft": draft,
        },
    )


@login_required
def mas_sheet(request, number):
    return documents.mas_sheet_response(request.user, _visible_request(request, number))


@login_required
@require_POST
def mas_letter_sent(request, number):
    demande = _visible_request(request, number)
    if not policy.can_mark_letter_sent(request.user, demande) or documents.mas_referral(demande) is None:
        raise Http404
    return _act(
        request,
        number,
        lambda: services.mark_confirmation_letter_sent(demande, agent=request.user),
        "L'envoi du courrier de confirmation est enregistré.",
    )


@login_required
def confirmation(request, number):
    return render(request, "requests/confirmation.html", {"demande": _visible_request(request, number)})


@login_required
def summary_pdf(request, number):
    return documents.summary_response(request.user, _visible_request(request, number))


@login_required
def download_attachment(request, number, public_id):
    demande = _visible_request(request, number)
    attachment = get_object_or_404(
        Attachment.objects.visible_to(request.user).filter(request=demande), public_id=public_id
    )
    journal_read(request.user, demande, Action.ATTACHMENT, attachment=attachment)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


@login_required
@require_POST
def toggle_follow(request, number):
    demande = _visible_request(request, number)
    following = services.toggle_follow(demande, request.user)
    said = f"Vous {'suivez' if following else 'ne suivez plus'} la demande {demande.number}."
    if request.headers.get("Accept") == "application/json":
        # The star's script (static/js/lists.js) toggles it in place and says it in the page's live region.
        return JsonResponse({"following": following, "message": said})
    messages.success(request, said)
    next_url = _local_path(request, request.POST.get("next", ""))
    if next_url is None:
        return redirect("requests:detail", demande.number)
    # Back to the list at the star's row, not at the top of the page (the row's id: requests/rows.py).
    return redirect(f"{next_url.partition('#')[0]}#demande-{demande.number}")


def _local_path(request, url):
    """`url` if it is a path of this site ("/demandes/?page=2"), else None: never another site, nor this one written
    with its host or a scheme (a full address is not what the lists send), nor a scheme-relative "//" or "/\\"."""
    if not url.startswith("/") or url.startswith(("//", "/\\")):
        return None
    return url if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}) else None
