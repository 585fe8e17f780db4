"""The clearinghouse's files, collected on a schedule: each practice with a connection
set up gets its new acknowledgments and remittances downloaded and kept (then processed
by whoever listens on events.clearinghouse_file_received). By hand: `flask --app wsgi
clearinghouse fetch`."""

import logging

from portal.services import clearinghouse, clearinghouse_sftp, clearinghouse_transfer
from portal.tasks import crontab, periodic

log = logging.getLogger(__name__)


@periodic(crontab(minute="*/15"))
def fetch_clearinghouse_files():
    """Returns how many files were new. A practice whose server fails is logged (the
    code only: messages name hosts, never secrets) and shown on its settings page."""
    new = 0
    for conn in clearinghouse.configured_connections():
        try:
            lines = clearinghouse_transfer.fetch(conn)
        except clearinghouse_sftp.TransportError as exc:
            log.warning("clearinghouse fetch failed, practice %s: %s", conn.practice_id, exc.code)
            continue
        new += sum(1 for line in lines if line.outcome == "stored")
    return new
