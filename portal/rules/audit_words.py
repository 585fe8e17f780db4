"""The audit log's action codes in words, for the owner reading it ("client.view" ->
"Viewed a client's record"). Codes without an entry read as "Object: verb" so a new code
is never shown raw. Pure: imports nothing from the portal."""

WORDS = {
    "access.denied": "Refused: not theirs to see",
    "appointment.book": "Booked an appointment",
    "appointment.cancel": "Cancelled an appointment",
    "appointment.check_in": "Checked a client in",
    "appointment.check_in_view": "Opened a check-in",
    "appointment.check_out": "Checked a visit out",
    "appointment.check_out_view": "Opened a check-out",
    "appointment.edit": "Changed an appointment's notes",
    "appointment.move": "Moved an appointment",
    "appointment.no_show": "Marked a no-show",
    "appointment.undo": "Undid a check-in or no-show",
    "appointment.view": "Viewed an appointment",
    "card.upload": "Uploaded an insurance card",
    "card.view": "Viewed an insurance card",
    "checkout.view": "Opened a visit's payment",
    "client.appointments_view": "Viewed a client's appointments",
    "client.archive": "Archived a client",
    "client.billing.view": "Viewed a client's billing",
    "client.create": "Added a client",
    "client.documents.view": "Viewed a client's documents",
    "client.merge": "Merged a duplicate record into this client",
    "client.merged_into": "Merged this duplicate record into another",
    "client.restore": "Restored a client",
    "client.search": "Searched for clients",
    "client.update": "Changed a client's details",
    "client.view": "Viewed a client's record",
    "document.download": "Downloaded a document",
    "document.issue": "Issued a document",
    "intake.sign": "Signed an intake form",
    "intake.view": "Viewed an intake form",
    "invoice.create": "Created an invoice",
    "invoice.issue": "Issued an invoice",
    "invoice.send": "E-mailed an invoice link",
    "invoice.view": "Viewed an invoice",
    "invoice.void": "Voided an invoice",
    "login": "Logged in",
    "login.failed": "Failed to log in",
    "login.throttled": "Log-in refused: too many tries",
    "logout": "Logged out",
    "note.addendum": "Added an addendum to a note",
    "note.create": "Started a chart note",
    "note.delete": "Discarded a draft note",
    "note.list": "Listed chart notes",
    "note.pdf": "Printed a chart note",
    "note.sign": "Signed a chart note",
    "note.update": "Changed a draft note",
    "note.view": "Viewed a chart note",
    "package.redeem": "Used a package credit",
    "package.refund": "Refunded a package's unused sessions",
    "package.refund_again": "Sent a package's refund again",
    "package.refund_expired": "Refunded an expired package's unused sessions (goodwill)",
    "package.sell": "Sold a package",
    "password.changed": "Changed their password",
    "payment.record": "Recorded a payment",
    "policy.view": "Viewed an insurance policy",
    "receipt.send": "E-mailed a receipt link",
    "schedule.view": "Viewed the schedule",
    "tip.record": "Recorded a tip",
}


def action_words(code):
    """The words for an audit action code."""
    if code in WORDS:
        return WORDS[code]
    thing, _, verb = (code or "").partition(".")
    thing = thing.replace("_", " ").capitalize() or "Action"
    return f"{thing}: {verb.replace('_', ' ').replace('.', ', ')}" if verb else thing
