"""The OpenAPI description the site serves, parsed once, for the API tests to validate requests and answers against."""
from __future__ import annotations

import pytest
from django.urls import reverse
from openapi_core import OpenAPI

_parsed: dict[str, OpenAPI] = {}


@pytest.fixture
def spec(client):
    """The description the site serves, parsed once per distinct document (parsing takes a second)."""
    response = client.get(reverse("api:openapi-json"))
    assert response.status_code == 200
    text = response.content.decode()
    if text not in _parsed:
        _parsed[text] = OpenAPI.from_dict(response.json())
    return _parsed[text]
