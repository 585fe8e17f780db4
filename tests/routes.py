"""The URL map, enumerated at run time, so routes added later are covered by the global tests."""

import uuid

from werkzeug.routing import IntegerConverter, UUIDConverter

IGNORED = {"HEAD", "OPTIONS"}


def sample_url(rule):
    """The rule's URL with every parameter filled: ints with 1, anything else with "1"."""
    values = {}
    for name in rule.arguments:
        conv = rule._converters.get(name)
        if isinstance(conv, IntegerConverter):
            values[name] = 1
        elif isinstance(conv, UUIDConverter):
            values[name] = uuid.UUID(int=1)
        else:
            values[name] = "1"
    built = rule.build(values, append_unknown=False)
    assert built is not None, f"cannot build {rule.rule}"
    return built[1]


def rules(app, method, prefix=None):
    """[(rule, url)] for every rule answering `method` (optionally under a URL prefix)."""
    out = []
    for rule in app.url_map.iter_rules():
        if method not in (rule.methods or set()) or rule.endpoint == "static":
            continue
        if prefix and not rule.rule.startswith(prefix):
            continue
        out.append((rule, sample_url(rule)))
    return sorted(out, key=lambda pair: pair[0].rule)
