"""The OpenAPI description the site serves, parsed once, for the API tests to validate requests and answers against."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from openapi_core import OpenAPI

_parsed: dict[str, OpenAPI] = {}


@pytest.fixture
def reader(db):
    """A signed-in browser of its own for the description (a private site serves it to users only), so the
    ``client`` of each test stays anonymous and its token is what authenticates it."""
    browser = Client()
    browser.force_login(get_user_model().objects.create_user("spec-reader", password="a-long-password-1"))
    return browser


@pytest.fixture
def spec(reader):
    """The description the site serves, parsed once per distinct document (parsing takes a second)."""
    response = reader.get(reverse("api:openapi-json"))
    assert response.status_code == 200
    text = response.content.decode()
    if text not in _parsed:
        _parsed[text] = OpenAPI.from_dict(response.json())
    return _parsed[text]
