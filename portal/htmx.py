"""render(): the whole page, or for an HTMX request (not a history restore) one named block.

Blocks are named after the DOM id they fill. Responses vary on HX-Request so a cache
never serves a fragment for a full page.
"""

from flask import make_response, render_template, request
from flask_htmx import HTMX
from jinja2_fragments.flask import render_block

htmx = HTMX()


def init_app(app):
    htmx.init_app(app)


def wants_fragment():
    return bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request"
    )


def render(template, /, block=None, **ctx):
    """`template` is positional-only, so a page may pass its own `template=` variable."""
    if block and wants_fragment():
        body = render_block(template, block, **ctx)
    else:
        body = render_template(template, **ctx)
    resp = make_response(body)
    resp.headers.add("Vary", "HX-Request")
    return resp
