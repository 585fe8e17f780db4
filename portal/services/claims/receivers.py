"""The claims side of the clearinghouse seam (services/events.clearinghouse_file_received):
each file fetched from the clearinghouse is handled by its kind, found from its content:
a 999, a 277CA and a TA1 are applied to batches and claims (acks.py), an 835 is posted
(remittances.py); a TA1 before the transaction sets of its interchange is applied with
them. A receiver returns True when it handled the file (the file becomes
"processed"); a file it cannot apply raises with a message for the owner, and the
file is kept as "error" with it, nothing posted. Connected once by create_app.

    init_app(app)          # connect
    with disconnected():   # tests of the transport alone
        ...
"""

from contextlib import contextmanager

from portal.db import database
from portal.services import events
from portal.services.claims import acks, remittances
from portal.x12.readta1 import holds_ta1

KINDS = ("999", "277", "835", "ta1")


def _text(file):
    return remittances.decode(bytes(file.data))


_paused = []  # non-empty inside disconnected()


def _apply(file, text):
    if file.kind == "999":
        acks.apply_999(file.practice_id, text)
    elif file.kind == "277":
        acks.apply_277ca(file.practice_id, text)
    elif file.kind == "835":
        remittances.import_835(
            file.practice_id, bytes(file.data), source="clearinghouse", filename=file.remote_name
        )


def on_file_received(file):
    """Handle one ClearinghouseFile; False for a kind the claims code does not read. A TA1
    stands alone or before the transaction sets of its interchange (a clearinghouse sends
    a file's TA1 and its 999 in one): both are applied, in one transaction, or neither."""
    if _paused or file.kind not in KINDS:
        return False
    text = _text(file)
    with database.atomic("IMMEDIATE"):
        if file.kind == "ta1" or holds_ta1(text):
            acks.apply_ta1(file.practice_id, text)
        _apply(file, text)
    return True


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
