"""Count the SQL statements run inside a block (peewee logs each one at DEBUG)."""

import contextlib
import logging


class _Counter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements = []

    @property
    def count(self):
        return len(self.statements)

    def emit(self, record):
        if isinstance(record.msg, tuple):  # (sql, params); the pool logs plain strings
            self.statements.append(str(record.msg[0])[:200])


@contextlib.contextmanager
def count_queries():
    logger = logging.getLogger("peewee")
    counter, level = _Counter(), logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
