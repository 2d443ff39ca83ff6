"""The ``subsonic-response`` envelope, written as XML (the default), JSON (``f=json``) or JSONP (``f=jsonp&callback=``).

Endpoints return a payload in the JSON shape of the spec: objects are
elements, lists are repeated elements, scalars are attributes, and a scalar
under the key ``value`` (genres, lyrics, lyrics lines) is the element's text.
Lists of scalars (an extension's ``versions``, a user's ``folder``) are
repeated elements with text, as the XML schema has them.
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping
from xml.sax.saxutils import escape, quoteattr

from django.http import HttpResponse

from playlists.subsonic.params import ErrorCode, SubsonicError

API_VERSION = "1.16.1"
SERVER_TYPE = "crossfade"
SERVER_VERSION = "1.0.0"
XML_NAMESPACE = "http://subsonic.org/restapi"
FORMATS = ("xml", "json", "jsonp")
_CALLBACK = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$")

Payload = dict[str, Any]


def envelope(payload: Mapping[str, Any] | None = None, *, error: SubsonicError | None = None) -> Payload:
    """The ``subsonic-response`` object: status, versions, the server's name, and the payload or the error."""
    body: Payload = {
        "status": "failed" if error is not None else "ok",
        "version": API_VERSION,
        "type": SERVER_TYPE,
        "serverVersion": SERVER_VERSION,
        "openSubsonic": True,
    }
    if error is not None:
        body["error"] = {"code": int(error.code), "message": str(error)}
    else:
        body.update(payload or {})
    return body


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml_element(name: str, value: Any, out: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _xml_element(name, item, out)
        return
    if not isinstance(value, Mapping):
        out.append(f"<{name}>{escape(_scalar(value))}</{name}>")
        return
    attributes = []
    children: list[str] = []
    text = None
    for key, item in value.items():
        if item is None:
            continue
        if key == "value" and not isinstance(item, (Mapping, list)):
            text = escape(_scalar(item))
        elif isinstance(item, (Mapping, list)):
            _xml_element(key, item, children)
        else:
            attributes.append(f" {key}={quoteattr(_scalar(item))}")
    opening = f"<{name}{''.join(attributes)}"
    if text is None and not children:
        out.append(opening + "/>")
    else:
        out.append(f"{opening}>{text or ''}{''.join(children)}</{name}>")


def xml_document(body: Mapping[str, Any]) -> str:
    out: list[str] = []
    _xml_element("subsonic-response", {"xmlns": XML_NAMESPACE, **body}, out)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + out[0]


def _without_nones(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nones(v) for v in value]
    return value


def response_format(requested: str) -> str:
    """The answer's format; anything unknown falls back to XML, the protocol's default."""
    return requested if requested in FORMATS else "xml"


def render(body: Mapping[str, Any], *, fmt: str, callback: str = "") -> HttpResponse:
    """``body`` (an :func:`envelope`) as an HTTP 200 answer, the way Subsonic servers answer failures too."""
    if fmt in ("json", "jsonp"):
        text = json.dumps({"subsonic-response": _without_nones(body)}, ensure_ascii=False, separators=(",", ":"))
        if fmt == "jsonp":
            if not _CALLBACK.match(callback):
                error = SubsonicError(ErrorCode.MISSING_PARAMETER, "Required parameter is missing or not a JavaScript name: callback")
                text = json.dumps({"subsonic-response": _without_nones(envelope(error=error))}, ensure_ascii=False)
                return HttpResponse(text, content_type="application/json; charset=utf-8")
            return HttpResponse(f"{callback}({text});", content_type="application/javascript; charset=utf-8")
        return HttpResponse(text, content_type="application/json; charset=utf-8")
    return HttpResponse(xml_document(body), content_type="text/xml; charset=utf-8")
