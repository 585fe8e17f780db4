"""Charting and ICD-10: favourites, note templates, the practice's CPT codes, SOAP chart
notes with minutes per CPT code, diagnoses, body regions and addenda.

Frozen as SQL: a migration never imports portal.models. Depends on 0001 (practice,
provider, client, user) and 0003 (appointment).

A signed note is locked (belt and braces; the service refuses first): triggers abort
an UPDATE that changes a signed note's content, any DELETE of a signed note, and any
INSERT/UPDATE/DELETE of the minutes, diagnoses or regions of a signed note. Addenda
are append-only. The appointment link (SET NULL when an appointment goes), the
template link and created_by are not content.
"""

from portal import ddl

LOCKED_COLUMNS = [
    "practice_id",
    "client_id",
    "provider_id",
    "visit_date",
    "status",
    "subjective",
    "objective",
    "assessment",
    "plan",
    "pain_before",
    "pain_after",
    "techniques",
    "created_at",
    "updated_at",
    "signed_at",
    "signed_by_id",
    "signature",
]
_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in LOCKED_COLUMNS)
_NOTE_CHILDREN = ["note_minutes", "note_diagnosis", "note_body_region"]


def _child_triggers(table):
    signed = "(SELECT status FROM chart_note WHERE id = {ref}.note_id) = 'signed'"
    return [
        f"""CREATE TRIGGER {table}_signed_no_insert BEFORE INSERT ON {table}
           WHEN {signed.format(ref="NEW")}
           BEGIN SELECT RAISE(ABORT, 'chart note is signed and locked'); END""",
        f"""CREATE TRIGGER {table}_signed_no_update BEFORE UPDATE ON {table}
           WHEN {signed.format(ref="OLD")} OR {signed.format(ref="NEW")}
           BEGIN SELECT RAISE(ABORT, 'chart note is signed and locked'); END""",
        f"""CREATE TRIGGER {table}_signed_no_delete BEFORE DELETE ON {table}
           WHEN {signed.format(ref="OLD")}
           BEGIN SELECT RAISE(ABORT, 'chart note is signed and locked'); END""",
    ]


TABLES = [
    """CREATE TABLE icd10_favourite (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
        code VARCHAR(255) NOT NULL,
        description VARCHAR(255) NOT NULL DEFAULT '',
        created_at DATETIME NOT NULL
    )""",
    "CREATE UNIQUE INDEX icd10_favourite_practice_code ON icd10_favourite (practice_id, code)",
    """CREATE TABLE note_template (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
        name VARCHAR(255) NOT NULL,
        subjective TEXT NOT NULL DEFAULT '',
        objective TEXT NOT NULL DEFAULT '',
        assessment TEXT NOT NULL DEFAULT '',
        plan TEXT NOT NULL DEFAULT '',
        techniques TEXT NOT NULL DEFAULT '',
        is_default INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        created_at DATETIME NOT NULL,
        updated_at DATETIME
    )""",
    "CREATE INDEX note_template_practice_id ON note_template (practice_id)",
    """CREATE TABLE practice_cpt_code (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
        code VARCHAR(255) NOT NULL CHECK (length(code) = 5),
        description VARCHAR(255) NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        created_at DATETIME NOT NULL
    )""",
    "CREATE UNIQUE INDEX practice_cpt_code_practice_code ON practice_cpt_code (practice_id, code)",
    """CREATE TABLE chart_note (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        provider_id INTEGER NOT NULL REFERENCES provider (id) ON DELETE RESTRICT,
        appointment_id INTEGER REFERENCES appointment (id) ON DELETE SET NULL,
        template_id INTEGER REFERENCES note_template (id) ON DELETE SET NULL,
        visit_date DATE NOT NULL,
        status VARCHAR(255) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'signed')),
        subjective TEXT NOT NULL DEFAULT '',
        objective TEXT NOT NULL DEFAULT '',
        assessment TEXT NOT NULL DEFAULT '',
        plan TEXT NOT NULL DEFAULT '',
        pain_before INTEGER CHECK (pain_before IS NULL OR pain_before BETWEEN 0 AND 10),
        pain_after INTEGER CHECK (pain_after IS NULL OR pain_after BETWEEN 0 AND 10),
        techniques TEXT NOT NULL DEFAULT '',
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL,
        updated_at DATETIME,
        signed_at DATETIME,
        signed_by_id INTEGER REFERENCES user (id) ON DELETE RESTRICT,
        signature VARCHAR(255) NOT NULL DEFAULT '',
        CHECK ((status = 'draft' AND signed_at IS NULL AND signed_by_id IS NULL)
            OR (status = 'signed' AND signed_at IS NOT NULL AND signed_by_id IS NOT NULL))
    )""",
    "CREATE INDEX chart_note_client_visit ON chart_note (client_id, visit_date)",
    "CREATE INDEX chart_note_provider_status ON chart_note (provider_id, status, created_at)",
    "CREATE INDEX chart_note_practice_status ON chart_note (practice_id, status, created_at)",
    "CREATE INDEX chart_note_appointment ON chart_note (appointment_id)",
    "CREATE INDEX chart_note_template ON chart_note (template_id)",
    "CREATE INDEX chart_note_created_by ON chart_note (created_by_id)",
    "CREATE INDEX chart_note_signed_by ON chart_note (signed_by_id)",
    f"""CREATE TRIGGER chart_note_signed_no_update BEFORE UPDATE ON chart_note
       WHEN OLD.status = 'signed' AND ({_CHANGED})
       BEGIN SELECT RAISE(ABORT, 'chart note is signed and locked'); END""",
    """CREATE TRIGGER chart_note_signed_no_delete BEFORE DELETE ON chart_note
       WHEN OLD.status = 'signed'
       BEGIN SELECT RAISE(ABORT, 'chart note is signed and locked'); END""",
    """CREATE TABLE note_minutes (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        note_id INTEGER NOT NULL REFERENCES chart_note (id) ON DELETE CASCADE,
        cpt_code VARCHAR(255) NOT NULL,
        minutes INTEGER NOT NULL CHECK (minutes BETWEEN 1 AND 240)
    )""",
    "CREATE UNIQUE INDEX note_minutes_note_code ON note_minutes (note_id, cpt_code)",
    "CREATE INDEX note_minutes_client ON note_minutes (client_id)",
    "CREATE INDEX note_minutes_practice ON note_minutes (practice_id)",
    """CREATE TABLE note_diagnosis (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        note_id INTEGER NOT NULL REFERENCES chart_note (id) ON DELETE CASCADE,
        position INTEGER NOT NULL CHECK (position BETWEEN 1 AND 12),
        code VARCHAR(255) NOT NULL,
        description VARCHAR(255) NOT NULL DEFAULT ''
    )""",
    "CREATE UNIQUE INDEX note_diagnosis_note_code ON note_diagnosis (note_id, code)",
    "CREATE UNIQUE INDEX note_diagnosis_note_position ON note_diagnosis (note_id, position)",
    "CREATE INDEX note_diagnosis_client ON note_diagnosis (client_id)",
    "CREATE INDEX note_diagnosis_practice ON note_diagnosis (practice_id)",
    """CREATE TABLE note_body_region (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        note_id INTEGER NOT NULL REFERENCES chart_note (id) ON DELETE CASCADE,
        region VARCHAR(255) NOT NULL
    )""",
    "CREATE UNIQUE INDEX note_body_region_note_region ON note_body_region (note_id, region)",
    "CREATE INDEX note_body_region_client ON note_body_region (client_id)",
    "CREATE INDEX note_body_region_practice ON note_body_region (practice_id)",
    *[sql for table in _NOTE_CHILDREN for sql in _child_triggers(table)],
    """CREATE TABLE note_addendum (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        note_id INTEGER NOT NULL REFERENCES chart_note (id) ON DELETE RESTRICT,
        author_id INTEGER NOT NULL REFERENCES user (id) ON DELETE RESTRICT,
        author_name VARCHAR(255) NOT NULL DEFAULT '',
        body TEXT NOT NULL CHECK (length(trim(body)) > 0),
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX note_addendum_note ON note_addendum (note_id, created_at)",
    "CREATE INDEX note_addendum_client ON note_addendum (client_id)",
    "CREATE INDEX note_addendum_practice ON note_addendum (practice_id)",
    "CREATE INDEX note_addendum_author ON note_addendum (author_id)",
    """CREATE TRIGGER note_addendum_only_on_signed BEFORE INSERT ON note_addendum
       WHEN (SELECT status FROM chart_note WHERE id = NEW.note_id) IS NOT 'signed'
       BEGIN SELECT RAISE(ABORT, 'addenda are added to signed notes only'); END""",
    """CREATE TRIGGER note_addendum_no_update BEFORE UPDATE ON note_addendum
       BEGIN SELECT RAISE(ABORT, 'note_addendum is append-only'); END""",
    """CREATE TRIGGER note_addendum_no_delete BEFORE DELETE ON note_addendum
       BEGIN SELECT RAISE(ABORT, 'note_addendum is append-only'); END""",
]

# PostgreSQL's versions of the triggers above. A WHEN clause there cannot read another
# table: the guards that look the note up are PL/pgSQL functions. They take the note row
# FOR SHARE, so a note being signed by a concurrent transaction is waited for (and then
# seen signed), and a note cannot be signed while a child row of it is being written.
PG_CHILD_FUNCTION = """CREATE OR REPLACE FUNCTION note_child_signed_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        old_status text;
        new_status text;
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            SELECT status INTO old_status FROM chart_note WHERE id = OLD.note_id FOR SHARE;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            SELECT status INTO new_status FROM chart_note WHERE id = NEW.note_id FOR SHARE;
        END IF;
        IF old_status = 'signed' OR new_status = 'signed' THEN
            RAISE EXCEPTION 'chart note is signed and locked'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END $$"""
PG_ADDENDUM_FUNCTION = """CREATE OR REPLACE FUNCTION note_addendum_only_on_signed()
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (SELECT status FROM chart_note WHERE id = NEW.note_id) IS DISTINCT FROM 'signed' THEN
            RAISE EXCEPTION 'addenda are added to signed notes only'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$"""
PG_FUNCTIONS = ("note_child_signed_guard", "note_addendum_only_on_signed")
_LOCKED = "chart note is signed and locked"
_APPEND_ONLY = "note_addendum is append-only"
PG = [
    ddl.refuse(
        "chart_note_signed_no_update",
        "BEFORE UPDATE",
        "chart_note",
        _LOCKED,
        when=f"OLD.status = 'signed' AND ({ddl.changed(LOCKED_COLUMNS)})",
    ),
    ddl.refuse(
        "chart_note_signed_no_delete",
        "BEFORE DELETE",
        "chart_note",
        _LOCKED,
        when="OLD.status = 'signed'",
    ),
    PG_CHILD_FUNCTION,
    *[
        f'CREATE TRIGGER "{table}_signed_no_{op.lower()}" BEFORE {op} ON "{table}" '
        "FOR EACH ROW EXECUTE FUNCTION note_child_signed_guard()"
        for table in _NOTE_CHILDREN
        for op in ("INSERT", "UPDATE", "DELETE")
    ],
    PG_ADDENDUM_FUNCTION,
    'CREATE TRIGGER "note_addendum_only_on_signed" BEFORE INSERT ON "note_addendum" '
    "FOR EACH ROW EXECUTE FUNCTION note_addendum_only_on_signed()",
    ddl.refuse("note_addendum_no_update", "BEFORE UPDATE", "note_addendum", _APPEND_ONLY),
    ddl.refuse("note_addendum_no_delete", "BEFORE DELETE", "note_addendum", _APPEND_ONLY),
]

DROP = [
    "note_addendum",
    "note_body_region",
    "note_diagnosis",
    "note_minutes",
    "chart_note",
    "practice_cpt_code",
    "note_template",
    "icd10_favourite",
]


def up(migrator, db):
    for sql in TABLES:
        ddl.run(db, sql)
    ddl.pg(db, PG)


def down(migrator, db):
    # Dropping a table drops its triggers. The locks forbid deleting signed rows, not
    # dropping the tables: `down` is for development databases.
    for table in DROP:
        ddl.run(db, f'DROP TABLE IF EXISTS "{table}"')
    for name in PG_FUNCTIONS:
        ddl.drop_function(db, name)
