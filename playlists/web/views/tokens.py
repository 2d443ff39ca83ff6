"""The page where a listener makes and revokes personal API tokens (a new token's secret is shown once)."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from playlists.accounts import tokens
from playlists.errors import CrossfadeError
from playlists.web.forms import TokenForm
from playlists.web.requests import SignedInRequest


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: SignedInRequest) -> HttpResponse:
    secret = None
    if request.method == "POST":
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
    return render(request, "playlists/api_tokens.html", {"tokens": tokens.api_tokens_of(user=request.user), "secret": secret})
