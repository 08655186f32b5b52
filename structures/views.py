from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from extranet.accounts.forms import IdentityForm
from extranet.core.names import name_key
from extranet.core.plurals import quantity
from extranet.core.workdays import Calendar, public_holidays
from structures import services
from structures.forms import (
    AccountEditForm,
    CaisseCalendarForm,
    ConventionForm,
    ExistingStructureConventionForm,
    IdentityCorrectionForm,
    StructureCreateForm,
    StructureForm,
)
from structures.guards import require_caisse_admin, require_gestionnaire
from structures.models import (
    CONVENTION_CONSEQUENCES,
    AccountStatus,
    CaisseMembership,
    Convention,
    Membership,
    Structure,
)

PAGE_SIZE = 25

IDENTITY_FIELDS = ("civility", "last_name", "first_name", "email", "phone")


def _identity(form):
    return {name: form.cleaned_data[name] for name in IDENTITY_FIELDS}


def _create_account(request, form, create, **kwargs):
    """Run an account-creating service; an address already in use becomes the field's error. Returns the membership
    or None."""
    try:
        return create(by=request.user, **kwargs, **_identity(form))
    except services.EmailAlreadyUsed as refusal:
        form.add_error("email", refusal.message)
    return None


def _seat_message(request, structure, situation):
    if situation["active_count"] >= situation["cap"]:
        messages.warning(
            request,
            f"{structure.name} compte "
            f"{quantity(situation['active_count'], 'gestionnaire actif', 'gestionnaires actifs')} pour "
            f"{quantity(situation['cap'], 'place')} avec un effectif de {structure.headcount} : aucun gestionnaire "
            "ne peut être ajouté tant qu'une place n'est pas libérée. Personne n'a été désactivé.",
        )


# Administrateur caisse: structures, conventions, gestionnaires


def _admin_structures(caisse):
    return Structure.objects.for_caisse(caisse)


@login_required
def structure_list(request):
    caisse = require_caisse_admin(request.user).caisse
    query = request.GET.get("q", "").strip()
    structures = _admin_structures(caisse).with_active_gestionnaire_count()
    if query:
        structures = structures.filter(Q(name__icontains=query) | Q(siret__startswith=query.replace(" ", "")))
    page = Paginator(structures.order_by("name", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    conventions = {
        convention.structure_id: convention
        for convention in caisse.conventions.filter(structure__in=[structure.pk for structure in page])
    }
    rows = [(structure, conventions.get(structure.pk)) for structure in page]
    return render(request, "structures/structure_list.html", {"page": page, "rows": rows, "query": query})


@login_required
@require_http_methods(["GET", "POST"])
def structure_create(request):
    caisse = require_caisse_admin(request.user).caisse
    form = StructureCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        structure = services.create_structure(
            caisse=caisse,
            signed_on=data["signed_on"],
            convention_status=data["convention_status"],
            **{name: data[name] for name in StructureForm.Meta.fields},
        )
        messages.success(
            request, f"La structure {structure.name} est créée. Créez maintenant son premier gestionnaire."
        )
        return redirect("structures:structure_detail", structure.pk)
    return render(request, "structures/structure_form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def structure_add_convention(request):
    caisse = require_caisse_admin(request.user).caisse
    form = ExistingStructureConventionForm(request.POST or None, caisse=caisse)
    if request.method == "POST" and form.is_valid():
        services.add_convention(
            form.structure, caisse=caisse, signed_on=form.cleaned_data["signed_on"], status=form.cleaned_data["status"]
        )
        messages.success(request, f"La convention avec {form.structure.name} est enregistrée.")
        return redirect("structures:structure_detail", form.structure.pk)
    return render(request, "structures/convention_existing_form.html", {"form": form})


@login_required
def structure_detail(request, pk):
    caisse = require_caisse_admin(request.user).caisse
    structure = get_object_or_404(_admin_structures(caisse), pk=pk)
    gestionnaires = (
        structure.memberships.filter(role=Membership.Role.GESTIONNAIRE)
        .select_related("user")
        .order_by("-is_active", "user__last_name")
    )
    convention = structure.conventions.get(caisse=caisse)
    return render(
        request,
        "structures/structure_detail.html",
        {
            "structure": structure,
            "convention": convention,
            "changes": list(convention.changes.select_related("by")),
            "gestionnaires": gestionnaires,
            "seats": services.seat_situation(structure),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def structure_edit(request, pk):
    caisse = require_caisse_admin(request.user).caisse
    structure = get_object_or_404(_admin_structures(caisse), pk=pk)
    form = StructureForm(request.POST or None, instance=structure)
    if request.method == "POST" and form.is_valid():
        situation = services.update_structure(
            structure, **{name: form.cleaned_data[name] for name in StructureForm.Meta.fields}
        )
        messages.success(request, "La structure est mise à jour.")
        _seat_message(request, structure, situation)
        return redirect("structures:structure_detail", structure.pk)
    return render(request, "structures/structure_form.html", {"form": form, "structure": structure})


@login_required
@require_http_methods(["GET", "POST"])
def caisse_calendar(request):
    caisse = require_caisse_admin(request.user).caisse
    form = CaisseCalendarForm(request.POST or None, initial={"calendar": caisse.calendar})
    if request.method == "POST" and form.is_valid():
        calendar = Calendar(form.cleaned_data["calendar"])
        services.set_caisse_calendar(caisse, calendar=calendar, by=request.user)
        messages.success(request, f"Le calendrier de la caisse est désormais « {calendar.label} ».")
        return redirect("structures:caisse_calendar")
    this_year = timezone.localdate().year
    return render(
        request,
        "structures/caisse_calendar.html",
        {
            "form": form,
            "caisse": caisse,
            "calendar_label": Calendar(caisse.calendar).label,
            "years": [
                (year, public_holidays(year, calendar=caisse.calendar).items()) for year in (this_year, this_year + 1)
            ],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def convention_edit(request, pk):
    """The convention's form, then, when its status changes, a confirmation step that says from what to what, what
    it means for the structure and who will be told. Only `confirm` changes the status; `edit` goes back to the form
    with what was typed. A change of the signature date alone is saved at once."""
    caisse = require_caisse_admin(request.user).caisse
    structure = get_object_or_404(_admin_structures(caisse), pk=pk)
    convention = structure.conventions.get(caisse=caisse)
    current = Convention.Status(convention.status)
    form = ConventionForm(request.POST or None, instance=convention)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["status"] != current and "confirm" not in request.POST and "edit" not in request.POST:
            gestionnaires = structure.active_gestionnaires().filter(user__is_active=True).select_related("user")
            return render(
                request,
                "structures/convention_confirm.html",
                {
                    "structure": structure,
                    "data": data,
                    "from_label": current.label,
                    "to_label": Convention.Status(data["status"]).label,
                    "consequence": CONVENTION_CONSEQUENCES[data["status"]],
                    "gestionnaires": gestionnaires.order_by("user__last_name", "user__first_name", "pk"),
                },
            )
        if "edit" not in request.POST:
            change = services.update_convention(
                convention, signed_on=data["signed_on"], status=data["status"], reason=data["reason"], by=request.user
            )
            if change is None:
                messages.success(request, "La convention est mise à jour.")
            else:
                messages.success(
                    request,
                    f"La convention est désormais « {change.get_to_status_display()} » ; les gestionnaires de la "
                    "structure en sont prévenus par courriel.",
                )
            return redirect("structures:structure_detail", structure.pk)
    return render(
        request, "structures/convention_form.html", {"form": form, "structure": structure, "current": current}
    )


@login_required
@require_http_methods(["GET", "POST"])
def gestionnaire_create(request, pk):
    """The form while a seat is free. When none is, the page says so instead of the form, names who holds the
    seats (invited accounts hold one too) and offers what frees one: the headcount, a deactivation."""
    caisse = require_caisse_admin(request.user).caisse
    structure = get_object_or_404(_admin_structures(caisse), pk=pk)
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = _create_account(
                request, form, services.create_partner_account, structure=structure, role=Membership.Role.GESTIONNAIRE
            )
        except services.SeatLimitReached:
            # The last seat was taken since the form was opened: the page below says by whom.
            membership = None
        if membership:
            messages.success(
                request, f"Le compte de {membership.user} est créé ; un lien d'activation lui est envoyé."
            )
            return redirect("structures:structure_detail", structure.pk)
    holders = list(structure.active_gestionnaires().select_related("user").order_by("user__last_name", "pk"))
    seats = services.seats_from_count(structure, len(holders))
    title = f"Nouveau gestionnaire — {structure.name}"
    if not seats["free"]:
        return render(
            request,
            "structures/seats_full.html",
            {
                "structure": structure,
                "seats": seats,
                "holders": holders,
                "invited_count": sum(holder.account_status == AccountStatus.INVITED for holder in holders),
                # A form sent from a page opened while a seat was still free: what was typed is not saved.
                "refused": request.method == "POST",
                "title": title,
            },
        )
    return render(
        request,
        "structures/account_form.html",
        {
            "form": form,
            "title": title,
            "seats": seats,
            "cancel_url": reverse("structures:structure_detail", args=[structure.pk]),
        },
    )


def _admin_gestionnaire(request, pk):
    caisse = require_caisse_admin(request.user).caisse
    memberships = Membership.objects.filter(
        role=Membership.Role.GESTIONNAIRE, structure__in=_admin_structures(caisse)
    ).select_related("user", "structure")
    return get_object_or_404(memberships, pk=pk)


@login_required
@require_POST
def gestionnaire_set_active(request, pk, active):
    membership = _admin_gestionnaire(request, pk)
    if active:
        try:
            services.reactivate_partner_account(membership, by=request.user)
            messages.success(request, f"Le compte de {membership.user} est réactivé.")
        except services.SeatLimitReached as refusal:
            messages.error(request, str(refusal))
    else:
        services.deactivate_partner_account(membership, by=request.user)
        messages.success(request, _deactivated(membership))
    return redirect("structures:structure_detail", membership.structure_id)


@login_required
@require_POST
def gestionnaire_resend(request, pk):
    membership = _admin_gestionnaire(request, pk)
    _resend(request, membership)
    return redirect("structures:structure_detail", membership.structure_id)


@login_required
@require_http_methods(["GET", "POST"])
def gestionnaire_edit(request, pk):
    membership = _admin_gestionnaire(request, pk)
    return _correct_identity(
        request, membership, reverse("structures:structure_detail", args=[membership.structure_id])
    )


def _correct_identity(request, membership, back_url):
    """An administrateur's correction of an account's name and phone (the email and the rest are the person's)."""
    form = IdentityCorrectionForm(request.POST or None, instance=membership.user)
    name = membership.user.get_full_name()
    if request.method == "POST" and form.is_valid():
        changed = services.correct_identity(membership, by=request.user, **form.cleaned_data)
        messages.success(
            request, f"Le compte de {membership.user} est mis à jour." if changed else "Aucune modification."
        )
        return redirect(back_url)
    return render(
        request,
        "structures/account_form.html",
        {
            "form": form,
            "title": f"Modifier le compte de {name}",
            "intro": f"{membership.get_role_display()} — {membership.user.email}. Seule la personne peut changer "
            "son adresse électronique, depuis « Mon compte ».",
            "cancel_url": back_url,
        },
    )


def _reset_second_factor(request, membership):
    if membership.account_status != AccountStatus.ACTIVE:
        messages.error(request, "Seul un compte actif a une double authentification à réinitialiser.")
        return
    services.reset_second_factor(membership, by=request.user)
    messages.success(
        request,
        f"La double authentification de {membership.user} est réinitialisée : il la configurera à sa prochaine "
        "connexion. Un courriel l'en informe.",
    )


@login_required
@require_POST
def gestionnaire_reset_second_factor(request, pk):
    membership = _admin_gestionnaire(request, pk)
    _reset_second_factor(request, membership)
    return redirect("structures:structure_detail", membership.structure_id)


@login_required
@require_POST
def agent_reset_second_factor(request, pk):
    membership = get_object_or_404(_caisse_agents(require_caisse_admin(request.user).caisse), pk=pk)
    _reset_second_factor(request, membership)
    return redirect("structures:agent_list")


@login_required
@require_POST
def technicien_reset_second_factor(request, pk):
    _, techniciens = _structure_techniciens(request)
    _reset_second_factor(request, get_object_or_404(techniciens, pk=pk))
    return redirect("structures:technicien_list")


def _deactivated(membership):
    """Deactivating an account never activated withdraws its invitation (its link no longer opens): said so."""
    if membership.user.is_invited:
        return f"L'invitation de {membership.user} est retirée : son lien d'activation ne sert plus."
    return f"Le compte de {membership.user} est désactivé et ses sessions sont fermées."


def _resend(request, membership):
    if membership.is_active and services.resend_activation(membership.user, by=request.user):
        messages.success(request, f"Un nouveau lien d'activation est envoyé à {membership.user.email}.")
    else:
        messages.error(request, "Ce compte est déjà activé ou désactivé : aucun lien n'a été envoyé.")


# Administrateur caisse: agents


def _caisse_staff(caisse, role):
    return CaisseMembership.objects.filter(caisse=caisse, role=role).select_related("user", "caisse")


def _caisse_agents(caisse):
    return _caisse_staff(caisse, CaisseMembership.Role.AGENT)


def _caisse_admins(request):
    return _caisse_staff(require_caisse_admin(request.user).caisse, CaisseMembership.Role.ADMIN)


# A request in progress, as requests/models.py Status.IN_PROGRESS says it (this layer does not import requests).
IN_PROGRESS = "in_progress"


@login_required
def agent_list(request):
    """The caisse's agents, each with their open workload: the requests of the caisse they have in progress, counted
    in the page's own query (grouped by agent)."""
    caisse = require_caisse_admin(request.user).caisse
    agents = (
        _caisse_agents(caisse)
        .annotate(
            workload=Count(
                "user__assigned_requests",
                filter=Q(user__assigned_requests__status=IN_PROGRESS, user__assigned_requests__caisse_id=caisse.pk),
            )
        )
        .order_by("-is_active", "user__last_name", "pk")
    )
    page = Paginator(agents, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "structures/agent_list.html", {"page": page, "caisse": caisse})


@login_required
@require_http_methods(["GET", "POST"])
def agent_create(request):
    caisse = require_caisse_admin(request.user).caisse
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        membership = _create_account(
            request, form, services.create_caisse_account, caisse=caisse, role=CaisseMembership.Role.AGENT
        )
        if membership:
            messages.success(
                request, f"Le compte de {membership.user} est créé ; un lien d'activation lui est envoyé."
            )
            return redirect("structures:agent_list")
    return render(
        request,
        "structures/account_form.html",
        {"form": form, "title": f"Nouvel agent — {caisse}", "cancel_url": reverse("structures:agent_list")},
    )


@login_required
@require_POST
def agent_set_active(request, pk, active):
    membership = get_object_or_404(_caisse_agents(require_caisse_admin(request.user).caisse), pk=pk)
    services.set_caisse_account_active(membership, active, by=request.user)
    messages.success(
        request,
        f"Le compte de {membership.user} est réactivé." if active else _deactivated(membership),
    )
    return redirect("structures:agent_list")


@login_required
@require_POST
def agent_resend(request, pk):
    membership = get_object_or_404(_caisse_agents(require_caisse_admin(request.user).caisse), pk=pk)
    _resend(request, membership)
    return redirect("structures:agent_list")


@login_required
@require_http_methods(["GET", "POST"])
def agent_edit(request, pk):
    membership = get_object_or_404(_caisse_agents(require_caisse_admin(request.user).caisse), pk=pk)
    return _correct_identity(request, membership, reverse("structures:agent_list"))


# Administrateur caisse: the caisse's other administrateurs


@login_required
def administrateur_list(request):
    """The caisse's administrateurs, active first; invited ones say so (their account is not activated yet)."""
    caisse = require_caisse_admin(request.user).caisse
    administrateurs = _caisse_admins(request).order_by("-is_active", "user__last_name", "user__first_name", "pk")
    page = Paginator(administrateurs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "structures/administrateur_list.html", {"page": page, "caisse": caisse})


@login_required
@require_http_methods(["GET", "POST"])
def administrateur_create(request):
    """Another administrateur of the caisse: invited by email like agents and gestionnaires (the same service)."""
    caisse = require_caisse_admin(request.user).caisse
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        membership = _create_account(
            request, form, services.create_caisse_account, caisse=caisse, role=CaisseMembership.Role.ADMIN
        )
        if membership:
            messages.success(
                request, f"Le compte de {membership.user} est créé ; un lien d'activation lui est envoyé."
            )
            return redirect("structures:administrateur_list")
    return render(
        request,
        "structures/account_form.html",
        {
            "form": form,
            "title": f"Nouvel administrateur — {caisse}",
            "intro": "Un administrateur gère les structures, leurs conventions et leurs gestionnaires, les agents et "
            "les autres administrateurs de la caisse.",
            "cancel_url": reverse("structures:administrateur_list"),
        },
    )


@login_required
@require_POST
def administrateur_set_active(request, pk, active):
    membership = get_object_or_404(_caisse_admins(request), pk=pk)
    try:
        services.set_caisse_account_active(membership, active, by=request.user)
    except services.LastAdministrator as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request, f"Le compte de {membership.user} est réactivé." if active else _deactivated(membership)
        )
    return redirect("structures:administrateur_list")


@login_required
@require_POST
def administrateur_resend(request, pk):
    _resend(request, get_object_or_404(_caisse_admins(request), pk=pk))
    return redirect("structures:administrateur_list")


@login_required
@require_POST
def administrateur_reset_second_factor(request, pk):
    _reset_second_factor(request, get_object_or_404(_caisse_admins(request), pk=pk))
    return redirect("structures:administrateur_list")


@login_required
@require_http_methods(["GET", "POST"])
def administrateur_edit(request, pk):
    membership = get_object_or_404(_caisse_admins(request), pk=pk)
    return _correct_identity(request, membership, reverse("structures:administrateur_list"))


# Gestionnaire: the structure's techniciens


def _structure_techniciens(request):
    """The techniciens of the gestionnaire's own structure; anyone else's do not exist here."""
    membership = require_gestionnaire(request.user)
    return membership.structure, Membership.objects.filter(
        structure=membership.structure, role=Membership.Role.TECHNICIEN
    ).select_related("user")


def _matching(memberships, query):
    """The accounts whose name or address holds every word typed, accents and case aside (« helene » finds
    « Hélène »), which the databases' LIKE does not do alike. A structure's techniciens are read in one query."""
    words = query.split()
    return [
        membership
        for membership in memberships
        if all(
            (name_key(word) and name_key(word) in name_key(membership.user.get_full_name()))
            or word.casefold() in membership.user.email.casefold()
            for word in words
        )
    ]


@login_required
def technicien_list(request):
    """The structure's techniciens, searched by name or address (account data, not a person concerned by a
    request: a GET search like the structures list's), and its gestionnaires with the seats, read only: the caisse
    manages them."""
    structure, techniciens = _structure_techniciens(request)
    query = request.GET.get("q", "").strip()
    techniciens = techniciens.order_by("-is_active", "user__last_name", "pk")
    page = Paginator(_matching(techniciens, query) if query else techniciens, PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    gestionnaires = list(
        structure.active_gestionnaires().select_related("user").order_by("user__last_name", "user__first_name", "pk")
    )
    return render(
        request,
        "structures/technicien_list.html",
        {
            "page": page,
            "structure": structure,
            "query": query,
            "gestionnaires": gestionnaires,
            "seats": services.seats_from_count(structure, len(gestionnaires)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def technicien_create(request):
    structure, _ = _structure_techniciens(request)
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        membership = _create_account(
            request, form, services.create_partner_account, structure=structure, role=Membership.Role.TECHNICIEN
        )
        if membership:
            messages.success(
                request, f"Le compte de {membership.user} est créé ; un lien d'activation lui est envoyé."
            )
            return redirect("structures:technicien_list")
    return render(
        request,
        "structures/account_form.html",
        {"form": form, "title": "Nouveau technicien", "cancel_url": reverse("structures:technicien_list")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def technicien_edit(request, pk):
    _, techniciens = _structure_techniciens(request)
    membership = get_object_or_404(techniciens, pk=pk)
    form = AccountEditForm(request.POST or None, instance=membership.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_account_identity(
                membership.user,
                **{name: form.cleaned_data[name] for name in IDENTITY_FIELDS if name != "email"},
                email=form.cleaned_data["email"],
            )
        except services.EmailAlreadyUsed as refusal:
            form.add_error("email", refusal.message)
        else:
            messages.success(request, f"Le compte de {membership.user} est mis à jour.")
            return redirect("structures:technicien_list")
    return render(
        request,
        "structures/account_form.html",
        {
            "form": form,
            "title": f"Modifier le compte de {membership.user}",
            "cancel_url": reverse("structures:technicien_list"),
        },
    )


@login_required
@require_POST
def technicien_set_active(request, pk, active):
    _, techniciens = _structure_techniciens(request)
    membership = get_object_or_404(techniciens, pk=pk)
    if active:
        services.reactivate_partner_account(membership, by=request.user)
        messages.success(request, f"Le compte de {membership.user} est réactivé.")
    else:
        services.deactivate_partner_account(membership, by=request.user)
        messages.success(request, f"Le compte de {membership.user} est désactivé et ses sessions sont fermées.")
    return redirect("structures:technicien_list")


@login_required
@require_POST
def technicien_resend(request, pk):
    _, techniciens = _structure_techniciens(request)
    _resend(request, get_object_or_404(techniciens, pk=pk))
    return redirect("structures:technicien_list")
