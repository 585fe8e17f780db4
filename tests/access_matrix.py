"""Who may reach which route: ONE table for the whole URL map (issue 9).

tests/test_access_matrix.py signs in as each identity below and requests every route of
the app (every endpoint and method, ids filled with objects that identity can see) and
compares what happened with this table. A route missing from the table fails the suite.

ADDING A ROUTE: add one line to ACCESS, in the block of its area:

    "provider.claim_submit": DESK,

keyed by the endpoint name (`blueprint.function`, as in url_for). Use a set below or
spell one out ({OWNER, THERAPIST}). When GET and POST differ, key the method too:
"POST provider.claim_submit" (checked before the plain endpoint key).

The identities:
    OWNER, THERAPIST, FRONTDESK   staff of the practice (STAFF is all three)
    CLIENT                        a client signed in to the portal
    TABLET                        a staff session while a client holds the front-desk tablet
    ANON                          logged out

"Reaches" means the view ran and answered (a page, a redirect onward, 400 for a bad form,
409, 404 for an object that does not exist: that is the view's answer, not a refusal).
Not reaching is, by identity:
    ANON      sent to the login page (flask-login's unauthorized)
    TABLET    sent back to the tablet page (the tablet lock covers every route but the
              tablet form and its return, /account/* included)
    others    404 with an `access.denied` audit row about this route (its role, or the id
              in its URL): a refusal without that row fails the test too.
"""

OWNER = "owner"
THERAPIST = "therapist"
FRONTDESK = "frontdesk"
CLIENT = "client"
TABLET = "tablet"
ANON = "anon"

STAFF = frozenset({OWNER, THERAPIST, FRONTDESK})
CLINICAL = frozenset({OWNER, THERAPIST})  # chart notes, intake answers
DESK = frozenset({OWNER, FRONTDESK})  # refunds, voids, payers
OWNER_ONLY = frozenset({OWNER})
CLIENTS = frozenset({CLIENT})
SIGNED_IN = STAFF | CLIENTS
EVERYONE = SIGNED_IN | {ANON}  # public pages; never TABLET (the lock covers them too)

ACCESS = {
    # --- foundation: login, account, health --------------------------------------------
    "index": EVERYONE,
    "healthz": EVERYONE,
    "auth.login": EVERYONE,
    "auth.login_totp": EVERYONE,
    "auth.forgot": EVERYONE,
    "auth.logout": EVERYONE,
    "auth.set_password": EVERYONE,
    "auth.change_password": SIGNED_IN,
    "auth.totp_setup": STAFF,
    "two_step.login_recovery": EVERYONE,
    "two_step.recovery_codes_page": STAFF,
    "two_step.totp_move": STAFF,
    "two_step.totp_move_confirm": STAFF,
    "webhooks.stripe_webhook": EVERYONE,  # Stripe's signature is the check
    # --- provider home and owner settings -------------------------------------------------
    "provider.home": STAFF,
    "provider.practice_logo": STAFF,
    "provider.settings_home": OWNER_ONLY,
    "provider.practice_settings": OWNER_ONLY,
    "provider.providers": OWNER_ONLY,
    "provider.provider_edit": OWNER_ONLY,
    "provider.staff": OWNER_ONLY,
    "provider.staff_toggle": OWNER_ONLY,
    "provider.staff_totp_reset": OWNER_ONLY,
    "provider.staff_role": OWNER_ONLY,
    "provider.staff_reinvite": OWNER_ONLY,
    "provider.audit_log": OWNER_ONLY,
    "provider.outbox": OWNER_ONLY,
    "provider.clearinghouse_settings": OWNER_ONLY,
    "provider.clearinghouse_key": OWNER_ONLY,
    "provider.clearinghouse_test": OWNER_ONLY,
    "provider.clearinghouse_accept_host_key": OWNER_ONLY,
    # --- claims on paper: CMS-1500 forms, batches, print calibration -------------------
    "provider.claims_paper": DESK,
    "provider.claims_paper_batch": DESK,
    "provider.claim_cms1500": DESK,
    "provider.claim_cms1500_document": DESK,
    "provider.claim_mailed": DESK,
    "provider.job_mailed": DESK,
    "provider.claim_print_settings": OWNER_ONLY,
    "provider.claim_print_test_page": OWNER_ONLY,
    # --- messaging: staff inbox and the client's Messages tab --------------------------
    "provider.messages": STAFF,
    "provider.client_messages": STAFF,
    "provider.messages_live": STAFF,
    "provider.messages_summary": STAFF,
    "provider.message_snippets": STAFF,
    "provider.message_snippet_remove": STAFF,
    "provider.message_notices": STAFF,
    "provider.message_thread": STAFF,
    "provider.message_reply": STAFF,
    "provider.message_assign": STAFF,
    "provider.message_done": STAFF,
    "provider.message_reopen": STAFF,
    "provider.message_hide": STAFF,
    "provider.message_unhide": STAFF,
    "provider.message_file": STAFF,
    "provider.message_new": STAFF,
    "provider.message_new_linked": STAFF,
    "client.messages": CLIENTS,
    "client.message_thread": CLIENTS,
    "client.message_reply": CLIENTS,
    "client.message_file": CLIENTS,
    "client.message_new": CLIENTS,
    "client.message_new_linked": CLIENTS,
    "client.messages_live": CLIENTS,
    "client.messages_summary": CLIENTS,
    "client.message_notices": CLIENTS,
    # --- background work: a job's progress and result (its starter, here the front desk,
    # and the owner) --------------------------------------------------------------------
    "provider.job": DESK,
    "provider.job_result": DESK,
    # --- clients, insurance, intake (clinical_a) -----------------------------------------
    "provider.clients": STAFF,
    "provider.clients_search": STAFF,
    "provider.client_new": STAFF,
    "provider.client_page": STAFF,
    "provider.client_edit": STAFF,
    "provider.client_archive": STAFF,
    "provider.client_portal_invite": STAFF,
    "provider.policy_new": STAFF,
    "provider.policy_page": STAFF,
    "provider.policy_edit": STAFF,
    "provider.policy_card_upload": STAFF,
    "provider.card_file": STAFF,
    "provider.card_attach": STAFF,
    "provider.verification_new": STAFF,
    "provider.referral_new": STAFF,
    "provider.referral_edit": STAFF,
    "provider.authorization_new": STAFF,
    "provider.authorization_edit": STAFF,
    "provider.payers": DESK,
    "provider.payer_new": DESK,
    "provider.payer_edit": DESK,
    "provider.payer_fee_set": DESK,
    "provider.payer_fee_delete": DESK,
    "provider.intake_forms": OWNER_ONLY,
    "provider.intake_form_new": OWNER_ONLY,
    "provider.intake_form_edit": OWNER_ONLY,
    "provider.intake_form_default": OWNER_ONLY,
    "provider.intake_field_new": OWNER_ONLY,
    "provider.intake_field_edit": OWNER_ONLY,
    "provider.intake_submission": CLINICAL,
    "provider.intake_submission_pdf": CLINICAL,
    "provider.tablet_start": STAFF,
    "provider.tablet": STAFF | {TABLET},
    "provider.tablet_return": STAFF | {TABLET},
    # --- chart notes and ICD-10 (charting) ------------------------------------------------
    "provider.client_notes": CLINICAL,
    "provider.note_new": CLINICAL,
    "provider.note_view": CLINICAL,
    "provider.note_edit": CLINICAL,
    "provider.note_sign": CLINICAL,
    "provider.note_delete": CLINICAL,
    "provider.note_addendum": CLINICAL,
    "provider.note_pdf": CLINICAL,
    "provider.unsigned_notes": CLINICAL,
    "provider.icd10_lookup": STAFF,
    "provider.icd10_suggest": STAFF,
    "provider.icd10_favourite_add": CLINICAL,
    "provider.icd10_favourite_remove": CLINICAL,
    "provider.cpt_codes": OWNER_ONLY,
    "provider.cpt_code_toggle": OWNER_ONLY,
    "provider.note_templates": OWNER_ONLY,
    "provider.note_template_edit": OWNER_ONLY,
    "provider.note_template_default": OWNER_ONLY,
    # --- scheduling and online booking ----------------------------------------------------
    "provider.schedule": STAFF,
    "provider.schedule_settings": STAFF,
    "provider.appointment_new": STAFF,
    "provider.appointment": STAFF,
    "provider.appointment_edit": STAFF,
    "provider.appointment_cancel": STAFF,
    "provider.appointment_no_show": STAFF,
    "provider.appointment_undo": STAFF,
    "provider.appointment_check_in": STAFF,
    "provider.appointment_check_out": STAFF,
    "provider.client_appointments": STAFF,
    # the desk (issue 11): the visit's note (clinical), the client finder, merging (owner)
    "provider.note_for_appointment": CLINICAL,
    "provider.client_find": STAFF,
    "provider.client_merge_page": OWNER_ONLY,
    "provider.provider_hours": CLINICAL,  # a therapist: their own hours
    "provider.provider_exception_add": CLINICAL,
    "provider.provider_exception_delete": CLINICAL,
    "provider.calendar_feed": CLINICAL,
    "provider.appointment_type_edit": OWNER_ONLY,
    "provider.booking_policy": OWNER_ONLY,
    "provider.room_add": OWNER_ONLY,
    "provider.room_toggle": OWNER_ONLY,
    "public_booking.public_book": EVERYONE,
    "public_booking.public_account": EVERYONE,
    "public_booking.check_email": EVERYONE,
    "public_booking.calendar_feed_ics": EVERYONE,  # the token in the URL is the check
    "client.book": CLIENTS,
    "client.book_confirm": CLIENTS,
    "client.appointments": CLIENTS,
    "client.appointment_cancel": CLIENTS,
    "client.appointment_reschedule": CLIENTS,
    # --- billing: invoices, packages, payments ---------------------------------------------
    "provider.billing": STAFF,
    "provider.invoice": STAFF,
    "provider.invoice_payment": STAFF,
    "provider.invoice_charge_card": STAFF,
    "provider.invoice_send": STAFF,
    "provider.invoice_void": DESK,
    "provider.payment_refund": DESK,
    "provider.invoice_pay_from_credit": STAFF,
    "provider.client_credit_payout": DESK,
    "provider.day_sheet": DESK,  # the day's money by way of paying (cash drawer, deposit)
    "provider.day_sheet_csv": DESK,
    "provider.purchase_refund": DESK,
    "provider.purchase_refund_expired": OWNER_ONLY,
    "provider.document_download": STAFF,
    "provider.client_billing": STAFF,
    "provider.client_documents": STAFF,
    "provider.client_sell_package": STAFF,
    "provider.checkout_payment": STAFF,
    "provider.checkout_pay": STAFF,
    "provider.checkout_sell": STAFF,
    "provider.checkout_sell_post": STAFF,
    "provider.checkout_take": STAFF,  # the desk (issue 11): pay, tip, confirm
    "provider.checkout_receipt_email": STAFF,
    "provider.checkout_book_next": STAFF,
    "provider.checkout_packages": STAFF,
    "provider.package_definitions": OWNER_ONLY,
    "provider.package_toggle": OWNER_ONLY,
    "provider.billing_settings": OWNER_ONLY,
    # --- insurance claims (claims-core): the owner and front desk work them, a therapist
    # reads those of the clients they may see; the owner sets how claims are made --------
    "provider.claims": STAFF,
    "provider.claims_aging": STAFF,
    "provider.claim": STAFF,
    "provider.claim_edit": DESK,
    "provider.claim_check": DESK,
    "provider.claim_hold": DESK,
    "provider.claim_void": DESK,
    "provider.claim_close": DESK,
    "provider.claim_appeal": DESK,
    "provider.claim_use_note_minutes": DESK,
    "provider.claim_secondary": DESK,
    "provider.claim_rebill": DESK,
    "provider.claim_line_edit": DESK,
    "provider.claim_line_remove": DESK,
    "provider.claim_diagnoses": DESK,
    "provider.claim_details": DESK,
    "provider.claim_payer_number": DESK,
    "provider.claim_settings": OWNER_ONLY,
    # --- claims money (claims-money): 837P files, payments (835), posting by hand, the
    # work list and collect are the owner's and front desk's; a claim's payments are read
    # by the staff who may see the claim; the reports are the owner's --------------------
    "provider.claim_batches": DESK,
    "provider.claim_batch_new": DESK,
    "provider.claim_batch": DESK,
    "provider.claim_batch_file": DESK,
    "provider.claim_batch_send": DESK,
    "provider.remittances": DESK,
    "provider.remittance_example": DESK,
    "provider.remittance": DESK,
    "provider.remittance_file": DESK,
    "provider.remittance_line_match": DESK,
    "provider.remittance_line_dismiss": DESK,
    "provider.claim_payments": STAFF,
    "provider.claim_post_payment": DESK,
    "provider.claim_write_off": DESK,
    "provider.claim_worklist": DESK,
    "provider.claim_collect": DESK,
    "provider.reports": OWNER_ONLY,
    "provider.report_csv": OWNER_ONLY,
    # --- the client portal ---------------------------------------------------------------
    "client.home": CLIENTS,
    "client.insurance": CLIENTS,
    "client.insurance_card": CLIENTS,
    "client.insurance_card_upload": CLIENTS,
    "client.intake": CLIENTS,
    "client.intake_fill": CLIENTS,
    "client.intake_pdf": CLIENTS,
    "client.invoices": CLIENTS,
    "client.invoice_pay": CLIENTS,
    "client.invoice_pay_from_credit": CLIENTS,
    "client.package_buy": CLIENTS,
    "client.documents": CLIENTS,
    "client.document_download": CLIENTS,
    "client.checkout_done": CLIENTS,
    "client.card_new": CLIENTS,
    "client.card_remove": CLIENTS,
    # --- issue 12: superbills, letters, the client home, getting in, export -------------
    "client.superbill_new": CLIENTS,
    "client.export": CLIENTS,
    "client.profile": CLIENTS,
    "client.preferences": CLIENTS,
    "client.verify_pending": CLIENTS,
    "client.verify_resend": CLIENTS,
    "signup.verify": EVERYONE,  # the one-time token in the URL is the check
    "provider.client_superbills": STAFF,
    "provider.superbill_new": STAFF,
    "provider.superbill_correct": STAFF,
    "provider.document_send": STAFF,
    "provider.letter_new": CLINICAL,
    "provider.letter_edit": CLINICAL,
    "provider.letter_sign": CLINICAL,
    # the owner's practice export: the owner who started it, no one else
    "provider.practice_export_page": OWNER_ONLY,
    "provider.practice_export_status": OWNER_ONLY,
    "provider.practice_export_download": OWNER_ONLY,
    "provider.practice_export_delete": OWNER_ONLY,
}


def allowed(endpoint, method):
    """The identities that may reach `endpoint` by `method`, or None without a row."""
    return ACCESS.get(f"{method} {endpoint}", ACCESS.get(endpoint))
