"""Secure messaging between clients and the practice (issue 15).

- links.py    what a thread is about: a generic (kind, id) link (appointment, invoice,
              chart note; claims register their own kind later)
- threads.py  the writes: start, send (with an attachment), hide, assign, done, read
- queries.py  the reads: staff inbox, a client's threads, a thread's messages, attachments
- live.py     unread counts and stamps for the pages' live updates (HTMX polling)
- notices.py  e-mail notices that say only that a message is waiting
- snippets.py quick replies
- export.py   a client's messages for their data export

Modules are imported one by one (`from portal.services.messaging import threads`); this
file imports nothing, so the modules can import each other without a cycle.
"""
