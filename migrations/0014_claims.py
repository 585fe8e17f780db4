"""Insurance claims: claims with their diagnoses and service lines, their history, the
problems that hold them, 837P batches and their control numbers, payer remittances
(835) with what each said per claim, payments and adjustments posted (by hand or from
an 835), write-offs, and the practice's claim settings.

Frozen as SQL: a migration never imports portal.models. Depends on 0001-0005 and 0013.

Guards kept by the database itself:
- claim_event (the claim's history) is append-only;
- one claim per visit, rank and part (a visit of more than six lines is split into
  parts): two check-outs or a nightly run racing the desk cannot bill a visit twice;
- a remittance is posted once: unique per practice by file hash, and by payer and
  trace (check/EFT) number;
- an 837P interchange control number is used once per practice;
- posted payments and adjustments are append-only (a correction is a reversing row);
- money columns are integer cents, never negative where a negative means nothing.
"""

from portal import ddl
from portal.pagecache import add_change_triggers

STATUSES = (
    "'draft', 'ready', 'submitted', 'accepted', 'rejected', 'paid', "
    "'partially_paid', 'denied', 'appealed', 'closed', 'void'"
)

TABLES = [
    """CREATE TABLE claim_settings (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL UNIQUE REFERENCES practice (id) ON DELETE CASCADE,
        bill_as VARCHAR(255) NOT NULL DEFAULT 'practice' CHECK (bill_as IN ('practice', 'provider')),
        default_place_of_service VARCHAR(2) NOT NULL DEFAULT '11',
        signature_on_file INTEGER NOT NULL DEFAULT 1,
        print_offset_x_mm REAL NOT NULL DEFAULT 0 CHECK (print_offset_x_mm BETWEEN -20 AND 20),
        print_offset_y_mm REAL NOT NULL DEFAULT 0 CHECK (print_offset_y_mm BETWEEN -20 AND 20),
        cash_checkout_without_note INTEGER NOT NULL DEFAULT 1,
        no_response_days INTEGER NOT NULL DEFAULT 30 CHECK (no_response_days BETWEEN 1 AND 365),
        updated_at DATETIME
    )""",
    """CREATE TABLE x12_counter (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL UNIQUE REFERENCES practice (id) ON DELETE CASCADE,
        last_number INTEGER NOT NULL DEFAULT 0 CHECK (last_number >= 0 AND last_number <= 999999999)
    )""",
    """CREATE TABLE claim_batch (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        payer_id INTEGER REFERENCES payer (id) ON DELETE RESTRICT,
        kind VARCHAR(255) NOT NULL DEFAULT '837p' CHECK (kind IN ('837p', 'paper')),
        status VARCHAR(255) NOT NULL DEFAULT 'built' CHECK (status IN
            ('built', 'queued', 'sending', 'sent', 'failed', 'accepted', 'partly_accepted', 'rejected')),
        interchange_control_number INTEGER CHECK (interchange_control_number BETWEEN 1 AND 999999999),
        group_control_number INTEGER,
        claim_count INTEGER NOT NULL DEFAULT 0 CHECK (claim_count >= 0),
        total_cents INTEGER NOT NULL DEFAULT 0 CHECK (total_cents >= 0),
        document_id INTEGER REFERENCES stored_document (id) ON DELETE RESTRICT,
        remote_name VARCHAR(255) NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        last_error VARCHAR(255) NOT NULL DEFAULT '',
        ack_status VARCHAR(255) NOT NULL DEFAULT '',
        ack_detail TEXT NOT NULL DEFAULT '',
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL,
        sent_at DATETIME
    )""",
    "CREATE UNIQUE INDEX claim_batch_isa ON claim_batch (practice_id, interchange_control_number)",
    "CREATE INDEX claim_batch_practice ON claim_batch (practice_id, created_at)",
    "CREATE INDEX claim_batch_payer ON claim_batch (payer_id)",
    "CREATE INDEX claim_batch_document ON claim_batch (document_id)",
    "CREATE INDEX claim_batch_created_by ON claim_batch (created_by_id)",
    f"""CREATE TABLE claim (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        appointment_id INTEGER REFERENCES appointment (id) ON DELETE RESTRICT,
        policy_id INTEGER NOT NULL REFERENCES insurance_policy (id) ON DELETE RESTRICT,
        payer_id INTEGER NOT NULL REFERENCES payer (id) ON DELETE RESTRICT,
        provider_id INTEGER REFERENCES provider (id) ON DELETE RESTRICT,
        rank VARCHAR(255) NOT NULL DEFAULT 'primary' CHECK (rank IN ('primary', 'secondary')),
        part INTEGER NOT NULL DEFAULT 1 CHECK (part >= 1),
        primary_claim_id INTEGER REFERENCES claim (id) ON DELETE RESTRICT,
        status VARCHAR(255) NOT NULL DEFAULT 'draft' CHECK (status IN ({STATUSES})),
        frequency_code VARCHAR(1) NOT NULL DEFAULT '1' CHECK (frequency_code IN ('1', '7', '8')),
        patient_control_number VARCHAR(20) NOT NULL,
        payer_claim_number VARCHAR(255) NOT NULL DEFAULT '',
        service_date DATE NOT NULL,
        place_of_service VARCHAR(2) NOT NULL DEFAULT '11',
        claim_type VARCHAR(255) NOT NULL DEFAULT 'commercial'
            CHECK (claim_type IN ('commercial', 'workers_comp', 'auto')),
        injury_date DATE,
        accident_state VARCHAR(2) NOT NULL DEFAULT '',
        accident_claim_number VARCHAR(255) NOT NULL DEFAULT '',
        referral_id INTEGER REFERENCES referral (id) ON DELETE RESTRICT,
        authorization_id INTEGER REFERENCES prior_authorization (id) ON DELETE RESTRICT,
        total_cents INTEGER NOT NULL DEFAULT 0 CHECK (total_cents >= 0),
        allowed_cents INTEGER NOT NULL DEFAULT 0 CHECK (allowed_cents >= 0),
        paid_cents INTEGER NOT NULL DEFAULT 0,
        patient_resp_cents INTEGER NOT NULL DEFAULT 0,
        adjusted_cents INTEGER NOT NULL DEFAULT 0,
        written_off_cents INTEGER NOT NULL DEFAULT 0 CHECK (written_off_cents >= 0),
        primary_paid_cents INTEGER CHECK (primary_paid_cents IS NULL OR primary_paid_cents >= 0),
        held INTEGER NOT NULL DEFAULT 0,
        batch_id INTEGER REFERENCES claim_batch (id) ON DELETE RESTRICT,
        submitted_at DATETIME,
        adjudicated_at DATETIME,
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL,
        updated_at DATETIME
    )""",
    "CREATE UNIQUE INDEX claim_pcn ON claim (practice_id, patient_control_number)",
    "CREATE UNIQUE INDEX claim_visit ON claim (appointment_id, rank, part) "
    "WHERE appointment_id IS NOT NULL",
    "CREATE INDEX claim_practice_status ON claim (practice_id, status, service_date)",
    "CREATE INDEX claim_practice_payer ON claim (practice_id, payer_id, service_date)",
    "CREATE INDEX claim_practice_date ON claim (practice_id, service_date, id)",
    "CREATE INDEX claim_client ON claim (client_id, service_date)",
    "CREATE INDEX claim_policy ON claim (policy_id)",
    "CREATE INDEX claim_payer ON claim (payer_id)",
    "CREATE INDEX claim_provider ON claim (provider_id)",
    "CREATE INDEX claim_primary ON claim (primary_claim_id)",
    "CREATE INDEX claim_referral ON claim (referral_id)",
    "CREATE INDEX claim_authorization ON claim (authorization_id)",
    "CREATE INDEX claim_batch_ref ON claim (batch_id)",
    "CREATE INDEX claim_created_by ON claim (created_by_id)",
    """CREATE TABLE claim_diagnosis (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        claim_id INTEGER NOT NULL REFERENCES claim (id) ON DELETE CASCADE,
        position INTEGER NOT NULL CHECK (position BETWEEN 1 AND 12),
        code VARCHAR(8) NOT NULL
    )""",
    "CREATE UNIQUE INDEX claim_diagnosis_position ON claim_diagnosis (claim_id, position)",
    "CREATE INDEX claim_diagnosis_practice ON claim_diagnosis (practice_id)",
    """CREATE TABLE claim_line (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        claim_id INTEGER NOT NULL REFERENCES claim (id) ON DELETE CASCADE,
        position INTEGER NOT NULL CHECK (position BETWEEN 1 AND 6),
        service_date DATE NOT NULL,
        place_of_service VARCHAR(2) NOT NULL DEFAULT '',
        cpt_code VARCHAR(5) NOT NULL,
        modifiers VARCHAR(255) NOT NULL DEFAULT '',
        minutes INTEGER NOT NULL DEFAULT 0 CHECK (minutes >= 0),
        units INTEGER NOT NULL CHECK (units >= 1 AND units <= 99),
        pointers VARCHAR(4) NOT NULL DEFAULT 'A',
        charge_cents INTEGER NOT NULL CHECK (charge_cents >= 0),
        allowed_cents INTEGER NOT NULL DEFAULT 0 CHECK (allowed_cents >= 0),
        paid_cents INTEGER NOT NULL DEFAULT 0,
        patient_resp_cents INTEGER NOT NULL DEFAULT 0,
        adjusted_cents INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE UNIQUE INDEX claim_line_position ON claim_line (claim_id, position)",
    "CREATE INDEX claim_line_practice ON claim_line (practice_id, cpt_code)",
    """CREATE TABLE claim_problem (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        claim_id INTEGER NOT NULL REFERENCES claim (id) ON DELETE CASCADE,
        code VARCHAR(255) NOT NULL,
        message TEXT NOT NULL,
        fix_where VARCHAR(255) NOT NULL DEFAULT 'claim',
        field VARCHAR(255) NOT NULL DEFAULT '',
        source VARCHAR(255) NOT NULL DEFAULT 'rules'
            CHECK (source IN ('rules', '999', '277ca', '835', 'desk')),
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX claim_problem_claim ON claim_problem (claim_id)",
    "CREATE INDEX claim_problem_practice ON claim_problem (practice_id, fix_where)",
    """CREATE TABLE remittance (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        payer_id INTEGER REFERENCES payer (id) ON DELETE RESTRICT,
        payer_name VARCHAR(255) NOT NULL DEFAULT '',
        payer_identifier VARCHAR(255) NOT NULL DEFAULT '',
        trace_number VARCHAR(255) NOT NULL,
        payment_cents INTEGER NOT NULL DEFAULT 0,
        payment_method VARCHAR(255) NOT NULL DEFAULT '',
        payment_date DATE,
        sha256 VARCHAR(64) NOT NULL CHECK (length(sha256) = 64),
        document_id INTEGER REFERENCES stored_document (id) ON DELETE RESTRICT,
        source VARCHAR(255) NOT NULL DEFAULT 'upload'
            CHECK (source IN ('upload', 'cli', 'clearinghouse', 'demo')),
        claim_count INTEGER NOT NULL DEFAULT 0,
        unmatched_count INTEGER NOT NULL DEFAULT 0,
        provider_adjustment_cents INTEGER NOT NULL DEFAULT 0,
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL
    )""",
    "CREATE UNIQUE INDEX remittance_trace ON remittance (practice_id, payer_identifier, trace_number)",
    "CREATE INDEX remittance_sha ON remittance (practice_id, sha256)",
    "CREATE INDEX remittance_practice ON remittance (practice_id, created_at)",
    "CREATE INDEX remittance_payer ON remittance (payer_id)",
    "CREATE INDEX remittance_document ON remittance (document_id)",
    "CREATE INDEX remittance_created_by ON remittance (created_by_id)",
    """CREATE TABLE remittance_claim (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        remittance_id INTEGER NOT NULL REFERENCES remittance (id) ON DELETE RESTRICT,
        claim_id INTEGER REFERENCES claim (id) ON DELETE RESTRICT,
        patient_control_number VARCHAR(255) NOT NULL,
        status_code VARCHAR(255) NOT NULL DEFAULT '',
        charge_cents INTEGER NOT NULL DEFAULT 0,
        paid_cents INTEGER NOT NULL DEFAULT 0,
        patient_resp_cents INTEGER NOT NULL DEFAULT 0,
        payer_claim_number VARCHAR(255) NOT NULL DEFAULT '',
        outcome VARCHAR(255) NOT NULL DEFAULT 'posted'
            CHECK (outcome IN ('posted', 'unmatched', 'resolved')),
        note TEXT NOT NULL DEFAULT '',
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX remittance_claim_remittance ON remittance_claim (remittance_id)",
    "CREATE INDEX remittance_claim_claim ON remittance_claim (claim_id)",
    "CREATE INDEX remittance_claim_unmatched ON remittance_claim (practice_id, outcome)",
    """CREATE TABLE claim_event (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        claim_id INTEGER NOT NULL REFERENCES claim (id) ON DELETE RESTRICT,
        action VARCHAR(255) NOT NULL,
        from_status VARCHAR(255) NOT NULL DEFAULT '',
        to_status VARCHAR(255) NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        amount_cents INTEGER,
        batch_id INTEGER REFERENCES claim_batch (id) ON DELETE RESTRICT,
        remittance_id INTEGER REFERENCES remittance (id) ON DELETE RESTRICT,
        user_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX claim_event_claim ON claim_event (claim_id, id)",
    "CREATE INDEX claim_event_practice ON claim_event (practice_id, created_at)",
    "CREATE INDEX claim_event_batch ON claim_event (batch_id)",
    "CREATE INDEX claim_event_user ON claim_event (user_id)",
    "CREATE INDEX claim_event_remittance ON claim_event (remittance_id)",
    """CREATE TRIGGER claim_event_no_update BEFORE UPDATE ON claim_event
        BEGIN SELECT RAISE(ABORT, 'a claim''s history is never changed'); END""",
    """CREATE TRIGGER claim_event_no_delete BEFORE DELETE ON claim_event
        BEGIN SELECT RAISE(ABORT, 'a claim''s history is never deleted'); END""",
    """CREATE TABLE claim_posting (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        claim_id INTEGER NOT NULL REFERENCES claim (id) ON DELETE RESTRICT,
        claim_line_id INTEGER REFERENCES claim_line (id) ON DELETE RESTRICT,
        remittance_claim_id INTEGER REFERENCES remittance_claim (id) ON DELETE RESTRICT,
        allowed_cents INTEGER NOT NULL DEFAULT 0,
        paid_cents INTEGER NOT NULL DEFAULT 0,
        invoice_id INTEGER REFERENCES invoice (id) ON DELETE RESTRICT,
        note VARCHAR(255) NOT NULL DEFAULT '',
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX claim_posting_claim ON claim_posting (claim_id, id)",
    "CREATE INDEX claim_posting_line ON claim_posting (claim_line_id)",
    "CREATE INDEX claim_posting_remittance ON claim_posting (remittance_claim_id)",
    "CREATE INDEX claim_posting_invoice ON claim_posting (invoice_id)",
    "CREATE INDEX claim_posting_practice ON claim_posting (practice_id, created_at)",
    "CREATE INDEX claim_posting_created_by ON claim_posting (created_by_id)",
    """CREATE TABLE claim_adjustment (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        posting_id INTEGER NOT NULL REFERENCES claim_posting (id) ON DELETE RESTRICT,
        group_code VARCHAR(2) NOT NULL CHECK (group_code IN ('CO', 'PR', 'OA', 'PI', 'CR')),
        reason_code VARCHAR(5) NOT NULL,
        amount_cents INTEGER NOT NULL,
        quantity INTEGER
    )""",
    "CREATE INDEX claim_adjustment_posting ON claim_adjustment (posting_id)",
    "CREATE INDEX claim_adjustment_practice ON claim_adjustment (practice_id, group_code)",
    """CREATE TABLE claim_writeoff (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        claim_id INTEGER NOT NULL REFERENCES claim (id) ON DELETE RESTRICT,
        amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
        reason VARCHAR(255) NOT NULL CHECK (length(reason) > 0),
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX claim_writeoff_claim ON claim_writeoff (claim_id)",
    "CREATE INDEX claim_writeoff_practice ON claim_writeoff (practice_id, created_at)",
    "CREATE INDEX claim_writeoff_created_by ON claim_writeoff (created_by_id)",
]

APPEND_ONLY = ("claim_posting", "claim_adjustment", "claim_writeoff")

# PostgreSQL's versions of the triggers above and of those `up` makes for APPEND_ONLY
# (ddl.run skips CREATE TRIGGER there).
PG = [
    ddl.refuse(
        "claim_event_no_update",
        "BEFORE UPDATE",
        "claim_event",
        "a claim's history is never changed",
    ),
    ddl.refuse(
        "claim_event_no_delete",
        "BEFORE DELETE",
        "claim_event",
        "a claim's history is never deleted",
    ),
    *[
        ddl.refuse(
            f"{table}_no_update",
            "BEFORE UPDATE",
            table,
            "posted money is never changed: post a reversal",
        )
        for table in APPEND_ONLY
    ],
    *[
        ddl.refuse(
            f"{table}_no_delete",
            "BEFORE DELETE",
            table,
            "posted money is never deleted: post a reversal",
        )
        for table in APPEND_ONLY
    ],
]

NAMES = (  # in the order they are created
    "claim_settings",
    "x12_counter",
    "claim_batch",
    "claim",
    "claim_diagnosis",
    "claim_line",
    "claim_problem",
    "remittance",
    "remittance_claim",
    "claim_event",
    "claim_posting",
    "claim_adjustment",
    "claim_writeoff",
)


def up(migrator, db):
    for sql in TABLES:
        ddl.run(db, sql)
    for table in APPEND_ONLY:
        ddl.run(
            db,
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'posted money is never changed: post a reversal'); END",
        )
        ddl.run(
            db,
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'posted money is never deleted: post a reversal'); END",
        )
    ddl.pg(db, PG)
    for table in NAMES:
        add_change_triggers(db, table)


def down(migrator, db):
    for table in reversed(NAMES):
        ddl.run(db, f'DROP TABLE IF EXISTS "{table}"')
