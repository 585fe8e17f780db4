"""Staff messaging: the inbox (inbox.py), one thread and starting one (threads.py), and
what staff and client views share (common.py: the live poll, attachments)."""

from portal.provider.messages import common, inbox, threads  # noqa: F401
