"""« Mon compte » → « Accès à l'API »: personal API keys, created (key shown once) by those the policy allows
(structures.policy.may_create_api_tokens) and revoked by their holder, whoever they are now."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from extranet.accounts.forms import ApiTokenForm
from extranet.accounts.models import ApiToken
from extranet.pages.accounts.views import render_account_page
from structures.policy import may_create_api_tokens

NEW_API_KEY = "_new_api_key"


@login_required
@require_POST
def create(request):
    if not may_create_api_tokens(request.user):
        raise PermissionDenied
    with transaction.atomic():
        # One creation at a time per account, so that two submissions cannot both pass the limit of active tokens.
        get_user_model().objects.select_for_update().filter(pk=request.user.pk).first()
        form = ApiTokenForm(request.POST, user=request.user)
        if not form.is_valid():
            return render_account_page(request, api_token_form=form)
        token, key = ApiToken.objects.issue(request.user, name=form.cleaned_data["name"], created_by=request.user)
    request.session[NEW_API_KEY] = {"key": key, "name": token.name}
    return redirect("accounts:api_token_created")


@never_cache  # the key must not stay in a browser or proxy cache
@login_required
def created(request):
    """The clear key, once: it leaves the session as it is shown; only its digest is kept."""
    new = request.session.pop(NEW_API_KEY, None)
    if not new:
        return redirect("accounts:account")
    return render(
        request,
        "accounts/api_token_created.html",
        {"key": new["key"], "name": new["name"], "me_url": f"{settings.SITE_URL}/api/v1/me/"},
    )


@login_required
@require_POST
def revoke(request, pk):
    token = get_object_or_404(ApiToken.objects.active().filter(user=request.user), pk=pk)
    token.revoke()
    messages.success(request, f"Le jeton « {token.name} » est révoqué : il ne donne plus accès à l'API.")
    return redirect("accounts:account")
