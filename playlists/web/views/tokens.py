"""The page where a listener makes and revokes personal API tokens (a new token's secret is shown once) and sets a Subsonic password."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from playlists.accounts import subsonic, tokens
from playlists.errors import CrossfadeError
from playlists.web.forms import SubsonicPasswordForm, TokenForm
from playlists.web.requests import SignedInRequest


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: SignedInRequest) -> HttpResponse:
    secret = None
    if request.method == "POST" and ("subsonic_password" in request.POST or "clear" in request.POST):
        password_form = SubsonicPasswordForm(request.POST)
        if not password_form.is_valid():
            messages.error(request, "A Subsonic password has at most 128 characters.")
        elif password_form.cleaned_data.get("clear"):
            subsonic.subsonic_password_clear(user=request.user)
            messages.success(request, "Subsonic password removed: players now need an API key.")
        else:
            try:
                subsonic.subsonic_password_set(user=request.user, password=password_form.cleaned_data["subsonic_password"])
                messages.success(request, "Subsonic password set.")
            except CrossfadeError as error:
                messages.error(request, str(error))
    elif request.method == "POST":
        form = TokenForm(request.POST)
        if not form.is_valid():
            messages.error(request, "A token name has at most 100 characters.")
        elif form.cleaned_data.get("revoke"):
            try:
                tokens.api_token_revoke(user=request.user, token_id=form.cleaned_data["revoke"])
                messages.success(request, "Token revoked.")
            except CrossfadeError as error:
                messages.error(request, str(error))
        else:
            _, secret = tokens.api_token_create(user=request.user, name=form.cleaned_data.get("name") or "")
    context = {
        "tokens": tokens.api_tokens_of(user=request.user),
        "secret": secret,
        "subsonic_password": subsonic.subsonic_password_exists(user=request.user),
        "server_url": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "playlists/api_tokens.html", context)
