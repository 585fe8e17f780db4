"""The SQL statements peewee runs, for tests that count or look for them.

with Statements() as seen:
    client.get("/provider/")
seen.sql               # every statement, in order
seen.reads_of('"user_session"')
"""

import logging


class Statements(logging.Handler):
    """peewee logs each statement at DEBUG as a (sql, params) tuple; its pool's check-out
    lines (logger peewee.pool) are not statements and are left out."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.sql = []
        self.logger = logging.getLogger("peewee")

    def emit(self, record):
        if record.name == "peewee":
            self.sql.append(str(record.msg[0] if isinstance(record.msg, tuple) else record.msg))

    def __enter__(self):
        self.level = self.logger.level
        self.logger.addHandler(self)
        self.logger.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc):
        self.logger.removeHandler(self)
        self.logger.setLevel(self.level)

    def reads_of(self, table):
        """The SELECTs that name `table` (quoted as peewee quotes it: '"user_session"')."""
        return [s for s in self.sql if s.lstrip().upper().startswith("SELECT") and table in s]
