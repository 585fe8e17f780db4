"""Clients and insurance (issue 3a): client demographics, payers and fee schedules, policies,
card images, benefits verifications, referrals, prior authorizations, intake forms and
immutable intake submissions.

Frozen as SQL: a migration never imports portal.models.
"""

from portal import ddl

CLIENT_COLUMNS = [
    ("sex", "VARCHAR(1) NOT NULL DEFAULT '' CHECK (sex IN ('', 'F', 'M', 'U'))"),
    ("address1", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("address2", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("city", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("state", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("postal_code", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("phone_digits", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("emergency_name", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("emergency_phone", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("emergency_relationship", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("archived_at", "DATETIME"),
    ("updated_at", "DATETIME"),
]

TABLES = [
    "CREATE INDEX client_practice_last_first ON client (practice_id, last_name, first_name)",
    "CREATE INDEX client_practice_phone_digits ON client (practice_id, phone_digits)",
    "CREATE INDEX client_practice_dob ON client (practice_id, date_of_birth)",
    """CREATE TABLE payer (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        name VARCHAR(255) NOT NULL,
        kind VARCHAR(255) NOT NULL DEFAULT 'commercial'
            CHECK (kind IN ('commercial', 'medicare', 'medicaid', 'workers_comp', 'auto', 'other')),
        payer_code VARCHAR(255) NOT NULL DEFAULT '',
        address1 VARCHAR(255) NOT NULL DEFAULT '',
        address2 VARCHAR(255) NOT NULL DEFAULT '',
        city VARCHAR(255) NOT NULL DEFAULT '',
        state VARCHAR(255) NOT NULL DEFAULT '',
        postal_code VARCHAR(255) NOT NULL DEFAULT '',
        phone VARCHAR(255) NOT NULL DEFAULT '',
        referral_required INTEGER NOT NULL DEFAULT 0,
        authorization_required INTEGER NOT NULL DEFAULT 0,
        unit_rule VARCHAR(255) NOT NULL DEFAULT 'cms8' CHECK (unit_rule IN ('cms8', 'per_code')),
        allow_97124_97140 INTEGER NOT NULL DEFAULT 0,
        affiliated INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        notes TEXT NOT NULL DEFAULT '',
        created_at DATETIME NOT NULL,
        updated_at DATETIME
    )""",
    "CREATE INDEX payer_practice_id ON payer (practice_id, name)",
    """CREATE TABLE payer_fee (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        payer_id INTEGER NOT NULL REFERENCES payer (id) ON DELETE CASCADE,
        cpt_code VARCHAR(255) NOT NULL,
        fee_cents INTEGER NOT NULL CHECK (fee_cents >= 0),
        created_at DATETIME NOT NULL
    )""",
    "CREATE UNIQUE INDEX payer_fee_payer_code ON payer_fee (payer_id, cpt_code)",
    "CREATE INDEX payer_fee_practice_id ON payer_fee (practice_id)",
    """CREATE TABLE insurance_policy (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        payer_id INTEGER NOT NULL REFERENCES payer (id) ON DELETE RESTRICT,
        rank VARCHAR(255) NOT NULL DEFAULT 'primary' CHECK (rank IN ('primary', 'secondary')),
        member_id VARCHAR(255) NOT NULL,
        group_number VARCHAR(255) NOT NULL DEFAULT '',
        plan_name VARCHAR(255) NOT NULL DEFAULT '',
        effective_date DATE,
        end_date DATE,
        relationship VARCHAR(255) NOT NULL DEFAULT 'self'
            CHECK (relationship IN ('self', 'spouse', 'child', 'other')),
        subscriber_first_name VARCHAR(255) NOT NULL DEFAULT '',
        subscriber_last_name VARCHAR(255) NOT NULL DEFAULT '',
        subscriber_dob DATE,
        subscriber_sex VARCHAR(1) NOT NULL DEFAULT '' CHECK (subscriber_sex IN ('', 'F', 'M', 'U')),
        subscriber_address1 VARCHAR(255) NOT NULL DEFAULT '',
        subscriber_address2 VARCHAR(255) NOT NULL DEFAULT '',
        subscriber_city VARCHAR(255) NOT NULL DEFAULT '',
        subscriber_state VARCHAR(255) NOT NULL DEFAULT '',
        subscriber_postal_code VARCHAR(255) NOT NULL DEFAULT '',
        claim_type VARCHAR(255) NOT NULL DEFAULT 'commercial'
            CHECK (claim_type IN ('commercial', 'workers_comp', 'auto')),
        employer_name VARCHAR(255) NOT NULL DEFAULT '',
        claim_number VARCHAR(255) NOT NULL DEFAULT '',
        injury_date DATE,
        accident_state VARCHAR(255) NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        created_at DATETIME NOT NULL,
        updated_at DATETIME,
        CHECK (end_date IS NULL OR effective_date IS NULL OR end_date >= effective_date)
    )""",
    "CREATE INDEX insurance_policy_client_id ON insurance_policy (client_id, active, rank)",
    "CREATE INDEX insurance_policy_practice_id ON insurance_policy (practice_id)",
    "CREATE INDEX insurance_policy_payer_id ON insurance_policy (payer_id)",
    """CREATE TABLE card_image (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        policy_id INTEGER REFERENCES insurance_policy (id) ON DELETE SET NULL,
        side VARCHAR(255) NOT NULL CHECK (side IN ('front', 'back')),
        stored_name VARCHAR(255) NOT NULL UNIQUE,
        content_type VARCHAR(255) NOT NULL
            CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf')),
        size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
        sha256 VARCHAR(255) NOT NULL,
        width INTEGER,
        height INTEGER,
        uploaded_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        uploaded_at DATETIME NOT NULL,
        replaced_at DATETIME
    )""",
    "CREATE INDEX card_image_client_id ON card_image (client_id, policy_id, side)",
    "CREATE INDEX card_image_practice_id ON card_image (practice_id)",
    """CREATE TABLE benefits_verification (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        policy_id INTEGER NOT NULL REFERENCES insurance_policy (id) ON DELETE RESTRICT,
        verified_on DATE NOT NULL,
        verified_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        verified_by_name VARCHAR(255) NOT NULL DEFAULT '',
        covered INTEGER NOT NULL DEFAULT 1,
        conditions TEXT NOT NULL DEFAULT '',
        deductible_cents INTEGER CHECK (deductible_cents >= 0),
        deductible_met_cents INTEGER CHECK (deductible_met_cents >= 0),
        copay_cents INTEGER CHECK (copay_cents >= 0),
        coinsurance_percent INTEGER CHECK (coinsurance_percent BETWEEN 0 AND 100),
        oop_max_cents INTEGER CHECK (oop_max_cents >= 0),
        oop_met_cents INTEGER CHECK (oop_met_cents >= 0),
        max_per_visit_cents INTEGER CHECK (max_per_visit_cents >= 0),
        max_per_term_cents INTEGER CHECK (max_per_term_cents >= 0),
        visits_per_year INTEGER CHECK (visits_per_year >= 0),
        visits_used INTEGER CHECK (visits_used >= 0),
        body_regions TEXT NOT NULL DEFAULT '',
        massage_types TEXT NOT NULL DEFAULT '',
        referral_required INTEGER NOT NULL DEFAULT 0,
        authorization_required INTEGER NOT NULL DEFAULT 0,
        representative VARCHAR(255) NOT NULL DEFAULT '',
        reference_number VARCHAR(255) NOT NULL DEFAULT '',
        notes TEXT NOT NULL DEFAULT '',
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX benefits_verification_policy ON benefits_verification (policy_id, verified_on)",
    "CREATE INDEX benefits_verification_client ON benefits_verification (client_id, verified_on)",
    "CREATE INDEX benefits_verification_practice ON benefits_verification (practice_id)",
    """CREATE TABLE referral (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        policy_id INTEGER REFERENCES insurance_policy (id) ON DELETE SET NULL,
        referring_name VARCHAR(255) NOT NULL,
        referring_npi VARCHAR(255) NOT NULL DEFAULT '',
        qualifier VARCHAR(255) NOT NULL DEFAULT 'DN' CHECK (qualifier IN ('DN', 'DK', 'DQ')),
        diagnosis_codes VARCHAR(255) NOT NULL DEFAULT '',
        referral_date DATE NOT NULL,
        visits_allowed INTEGER CHECK (visits_allowed >= 0),
        visits_used_before INTEGER NOT NULL DEFAULT 0 CHECK (visits_used_before >= 0),
        end_date DATE,
        notes TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        created_at DATETIME NOT NULL,
        CHECK (end_date IS NULL OR end_date >= referral_date)
    )""",
    "CREATE INDEX referral_client_id ON referral (client_id, referral_date)",
    "CREATE INDEX referral_practice_id ON referral (practice_id)",
    """CREATE TABLE prior_authorization (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        policy_id INTEGER REFERENCES insurance_policy (id) ON DELETE SET NULL,
        number VARCHAR(255) NOT NULL,
        visits_allowed INTEGER NOT NULL CHECK (visits_allowed >= 0),
        visits_used_before INTEGER NOT NULL DEFAULT 0 CHECK (visits_used_before >= 0),
        start_date DATE NOT NULL,
        end_date DATE NOT NULL,
        body_regions TEXT NOT NULL DEFAULT '',
        notes TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        created_at DATETIME NOT NULL,
        CHECK (end_date >= start_date)
    )""",
    "CREATE INDEX prior_authorization_client_id ON prior_authorization (client_id, start_date)",
    "CREATE INDEX prior_authorization_practice_id ON prior_authorization (practice_id)",
    """CREATE TABLE intake_form (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        title VARCHAR(255) NOT NULL,
        kind VARCHAR(255) NOT NULL DEFAULT 'health_history'
            CHECK (kind IN ('health_history', 'consent', 'other')),
        description TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        position INTEGER NOT NULL DEFAULT 0,
        created_at DATETIME NOT NULL,
        updated_at DATETIME
    )""",
    "CREATE INDEX intake_form_practice_id ON intake_form (practice_id, position)",
    """CREATE TABLE intake_field (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        form_id INTEGER NOT NULL REFERENCES intake_form (id) ON DELETE CASCADE,
        position INTEGER NOT NULL DEFAULT 0,
        label VARCHAR(255) NOT NULL,
        field_type VARCHAR(255) NOT NULL
            CHECK (field_type IN ('text', 'long_text', 'choice', 'checkbox', 'date', 'yes_no')),
        choices TEXT NOT NULL DEFAULT '',
        help_text VARCHAR(255) NOT NULL DEFAULT '',
        required INTEGER NOT NULL DEFAULT 0,
        flag INTEGER NOT NULL DEFAULT 0,
        flag_label VARCHAR(255) NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX intake_field_form_id ON intake_field (form_id, position)",
    "CREATE INDEX intake_field_practice_id ON intake_field (practice_id)",
    """CREATE TABLE intake_submission (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        form_id INTEGER REFERENCES intake_form (id) ON DELETE SET NULL,
        form_title VARCHAR(255) NOT NULL,
        form_kind VARCHAR(255) NOT NULL DEFAULT 'health_history',
        answers_json TEXT NOT NULL,
        flags_json TEXT NOT NULL DEFAULT '[]',
        signature_name VARCHAR(255) NOT NULL,
        signed_at DATETIME NOT NULL,
        signed_ip VARCHAR(255) NOT NULL DEFAULT '',
        user_agent VARCHAR(255) NOT NULL DEFAULT '',
        via VARCHAR(255) NOT NULL DEFAULT 'portal' CHECK (via IN ('portal', 'tablet')),
        submitted_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        content_sha256 VARCHAR(255) NOT NULL
    )""",
    "CREATE INDEX intake_submission_client_id ON intake_submission (client_id, signed_at)",
    "CREATE INDEX intake_submission_practice_id ON intake_submission (practice_id)",
    """CREATE TRIGGER intake_submission_no_update BEFORE UPDATE ON intake_submission
       BEGIN SELECT RAISE(ABORT, 'intake submissions are immutable'); END""",
]

PG = [
    ddl.refuse(
        "intake_submission_no_update",
        "BEFORE UPDATE",
        "intake_submission",
        "intake submissions are immutable",
    ),
]

DROP_TABLES = [
    "intake_submission",
    "intake_field",
    "intake_form",
    "prior_authorization",
    "referral",
    "benefits_verification",
    "card_image",
    "insurance_policy",
    "payer_fee",
    "payer",
]

DROP_INDEXES = [
    "client_practice_last_first",
    "client_practice_phone_digits",
    "client_practice_dob",
]


def up(migrator, db):
    for name, spec in CLIENT_COLUMNS:
        ddl.run(db, f"ALTER TABLE client ADD COLUMN {name} {spec}")
    for sql in TABLES:
        ddl.run(db, sql)
    ddl.pg(db, PG)


def down(migrator, db):
    for table in DROP_TABLES:
        ddl.run(db, f'DROP TABLE IF EXISTS "{table}"')
    for index in DROP_INDEXES:
        ddl.run(db, f'DROP INDEX IF EXISTS "{index}"')
    for name, _ddl in reversed(CLIENT_COLUMNS):
        ddl.run(db, f"ALTER TABLE client DROP COLUMN {name}")
