"""What the page layouts (templates/base.html, provider/_layout.html, client/_layout.html)
show on every page: their fixed links and the main navigation.

The links a layout prints are the same on every request (the stylesheets, the scripts and
the main navigation's pages), so they are built with url_for once per script root (the
path the portal is mounted at, which could differ between requests behind a proxy) and
kept: the layout then costs one lookup instead of a dozen url_for calls on every page."""

from flask import request, url_for

STATIC_FILES = ("img/favicon.svg", "css/portal.css", "js/portal.js", "css/client.css")

# (label, endpoint); the section a page names (its `section`) is the endpoint's name part.
STAFF_NAV = (
    ("Today", "provider.home"),
    ("Schedule", "provider.schedule"),
    ("Clients", "provider.clients"),
    ("Messages", "provider.messages"),
    ("Billing", "provider.billing"),
    ("Claims", "provider.claims"),
)
OWNER_NAV = STAFF_NAV + (
    ("Reports", "provider.reports"),
    ("Settings", "provider.practice_settings"),
)
CLIENT_NAV = (
    ("Home", "client.home"),
    ("Book", "client.book"),
    ("Appointments", "client.appointments"),
    ("Invoices", "client.invoices"),
    ("Documents", "client.documents"),
    ("Insurance", "client.insurance"),
    ("Forms", "client.intake"),
    ("Messages", "client.messages"),
)
OTHER_LINKS = ("auth.change_password", "auth.logout")

_built = {}  # script root -> LayoutLinks


class LayoutLinks:
    """The layout's URLs for one script root: `static[file]`, `url[endpoint]`, and the
    navigations as (label, endpoint, section, href) tuples."""

    def __init__(self, htmx_js):
        self.static = {name: url_for("static", filename=name) for name in STATIC_FILES}
        self.static["htmx"] = url_for("static", filename=htmx_js)
        endpoints = {e for _, e in OWNER_NAV + CLIENT_NAV} | set(OTHER_LINKS)
        self.url = {e: url_for(e) for e in endpoints}
        self.staff_nav = self._nav(STAFF_NAV)
        self.owner_nav = self._nav(OWNER_NAV)
        self.client_nav = self._nav(CLIENT_NAV)

    def _nav(self, entries):
        return tuple((label, e, e.partition(".")[2], self.url[e]) for label, e in entries)


def links(htmx_js):
    """This request's LayoutLinks (built on the first request under each script root)."""
    root = request.script_root
    built = _built.get(root)
    if built is None:
        built = _built[root] = LayoutLinks(htmx_js)
    return built
