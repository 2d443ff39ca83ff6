"""``{% fragment %}``: a part of a page rendered once and served again while everything it shows is the same.

    {% load fragments %}
    {% fragment "playlist body" body_key %} … {% endfragment %}

The key is the fragment's name, the signed-in user, the request's full path
(a form's ``next``, the nav's current page) and the values given after the
name, which the view computes from what the fragment shows (see
:func:`playlists.web.fragments.rows_digest`: a digest of the rows' stored
values, the user's ratings of them…). Nothing is ever invalidated: a like,
an edit, a rename or a new index version changes the values, so the next
render has another key and the old entry ages out. So a fragment is never
shared between users, never shows another URL's links, and never lags a write.

CSRF tokens: ``{% csrf_token %}`` inside a fragment renders a slot, which is
replaced by this request's own token each time the fragment is served, so a
cached fragment never carries a token of another session (and each answer's
token is freshly masked, as Django's own are).

Entries live in the ``fragments`` cache (settings.CACHES: a local-memory
cache per web worker, bounded in entries; correct without any sharing between
workers, since keys are derived from the data rather than invalidated).
"""
from __future__ import annotations

import hashlib

from django import template
from django.core.cache import caches
from django.template.base import Node, NodeList, Parser, Token
from django.template.context import Context
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from django.utils.safestring import SafeString

register = template.Library()

#: The cache (an alias of settings.CACHES) fragments are kept in.
FRAGMENT_CACHE = "fragments"


class FragmentNode(Node):
    def __init__(self, name: str, parts: list[template.base.FilterExpression], nodelist: NodeList) -> None:
        self.name = name
        self.parts = parts
        self.nodelist = nodelist

    @cached_property
    def csrf_slot(self) -> str:
        """What ``{% csrf_token %}`` writes inside a fragment: the same in every worker, never guessable from outside."""
        return "csrf-slot-" + salted_hmac("crossfade.fragment.csrf-slot", self.name).hexdigest()[:32]

    def key(self, context: Context) -> str:
        request = context.get("request")
        user = getattr(request, "user", None)
        identity = [
            self.name,
            getattr(user, "pk", None) if user is not None and user.is_authenticated else None,
            request.get_full_path() if request is not None else "",
            *(part.resolve(context) for part in self.parts),
        ]
        return "fragment:" + hashlib.blake2b(repr(identity).encode(), digest_size=20).hexdigest()

    def render(self, context: Context) -> SafeString:
        if context.get("request") is None:
            # Rendered outside a request (no user, no token): nothing to key on, so not cached.
            return SafeString(self.nodelist.render(context))
        cache = caches[FRAGMENT_CACHE]
        key = self.key(context)
        kept = cache.get(key)
        if isinstance(kept, str):
            html = kept
        else:
            with context.push(csrf_token=self.csrf_slot):
                html = str(self.nodelist.render(context))
            cache.set(key, html)
        token = context.get("csrf_token")
        # The fragment's own output (autoescaped as it was rendered) with this request's token in each slot.
        return SafeString(html.replace(self.csrf_slot, str(token) if token else ""))


@register.tag("fragment")
def fragment(parser: Parser, token: Token) -> FragmentNode:
    """``{% fragment "name" value … %}…{% endfragment %}``: see the module's docstring."""
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError("{% fragment %} takes a quoted name, then the values its content depends on")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(bits[1][1:-1], [parser.compile_filter(bit) for bit in bits[2:]], nodelist)
