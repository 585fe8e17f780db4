"""Staff messaging: the inbox (inbox.py), one thread and starting one (threads.py), the
form flows staff and clients share (flows.py) and what else both use (common.py: the live
poll, attachments, the badge)."""

from portal.provider.messages import common, flows, inbox, threads  # noqa: F401
