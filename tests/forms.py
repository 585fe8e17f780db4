"""Reading a page's forms as a browser would submit them, for tests that post what a
page offers (tests/test_two_servers.py, tests/claims/test_fix_return.py)."""

from html.parser import HTMLParser


class Forms(HTMLParser):
    """The fields of each <form> of a page, as a browser would submit them untouched."""

    def __init__(self):
        super().__init__()
        self.forms = []  # (form attributes, {name: value})
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append((a, {}))
        if not self.forms or not a.get("name") and tag != "option":
            return
        fields = self.forms[-1][1]
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            fields[a["name"]] = a.get("value", "on" if kind == "checkbox" else "")
        elif tag == "textarea":
            self._textarea = a["name"]
            fields[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select:
            if "selected" in a or self._select not in fields:
                fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1][1][self._textarea] += data
