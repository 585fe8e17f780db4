"""The claims side of the clearinghouse seam (services/events.clearinghouse_file_received):
each file fetched from the clearinghouse is handled by its kind, found from its content:
a 999, a 277CA and a TA1 are applied to batches and claims (acks.py), an 835 is posted
(remittances.py). A receiver returns True when it handled the file (the file becomes
"processed"); a file it cannot apply raises with a message for the owner, and the
file is kept as "error" with it, nothing posted. Connected once by create_app.

    init_app(app)          # connect
    with disconnected():   # tests of the transport alone
        ...
"""

from contextlib import contextmanager

from portal.services import events
from portal.services.claims import acks, remittances


def _text(file):
    return remittances.decode(bytes(file.data))


_paused = []  # non-empty inside disconnected()


def on_file_received(file):
    """Handle one ClearinghouseFile; False for a kind the claims code does not read."""
    if _paused:
        return False
    if file.kind == "999":
        acks.apply_999(file.practice_id, _text(file))
        return True
    if file.kind == "277":
        acks.apply_277ca(file.practice_id, _text(file))
        return True
    if file.kind == "ta1":
        acks.apply_ta1(file.practice_id, _text(file))
        return True
    if file.kind == "835":
        remittances.import_835(
            file.practice_id, bytes(file.data), source="clearinghouse", filename=file.remote_name
        )
        return True
    return False


def connect():
    events.clearinghouse_file_received.connect(on_file_received)


def init_app(app):
    connect()


@contextmanager
def disconnected():
    """Files stay "new" while inside (the transport's own tests)."""
    _paused.append(True)
    try:
        yield
    finally:
        _paused.pop()
