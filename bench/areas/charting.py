"""Chart notes: pages a therapist opens many times a day.

Seed: two notes (one signed, one draft) for each of the first 1,000 clients, with minutes
per code, a diagnosis and three body regions each (bulk inserts: drafts first, children,
then signed by UPDATE, as the lock triggers allow).
Targets (wrk, as a therapist): a signed note's page and a client's notes section (HTMX
fragment). Figure: note PDF render median (in-process).
"""

import datetime as dt

from peewee import chunked

from portal import clock
from portal.models import (
    ChartNote,
    Client,
    NoteBodyRegion,
    NoteDiagnosis,
    NoteMinutes,
    User,
)

ORDER = 26
SEED_VERSION = 2
N_CLIENTS = 1000


def seed(ctx):
    practice = ctx["practice"]
    now = clock.utcnow()
    therapist = User.get(User.email == ctx["therapist_email"])
    clients = list(
        Client.select(Client.id, Client.therapist)
        .where(Client.practice == practice)
        .order_by(Client.id)
        .limit(N_CLIENTS)
    )
    rows = []
    for n, c in enumerate(clients):
        for k in range(2):
            rows.append(
                {
                    "practice": practice.id,
                    "client": c.id,
                    "provider": c.therapist_id or ctx["providers"][0].id,
                    "visit_date": dt.date(2026, 10, 1) + dt.timedelta(days=(n + 7 * k) % 50),
                    "status": "draft",
                    "subjective": "Low back tightness after lifting; worse in the morning.",
                    "objective": "Hypertonic lumbar erectors; trigger point in left QL.",
                    "assessment": "Tension reduced; forward bend improved.",
                    "plan": "Weekly for 4 weeks; stretches at home.",
                    "pain_before": 6,
                    "pain_after": 3,
                    "techniques": "Deep tissue\nTrigger point therapy",
                    "created_by": therapist.id,
                    "created_at": now - dt.timedelta(days=2),
                    "updated_at": now - dt.timedelta(days=2),
                }
            )
    for batch in chunked(rows, 500):
        ChartNote.insert_many(batch).execute()
    notes = list(
        ChartNote.select(ChartNote.id, ChartNote.client).where(ChartNote.practice == practice)
    )
    minutes, dx, regions = [], [], []
    for note in notes:
        base = {"practice": practice.id, "client": note.client_id, "note": note.id}
        minutes += [{**base, "cpt_code": "97124", "minutes": 38}]
        minutes += [{**base, "cpt_code": "97140", "minutes": 15}]
        dx += [
            {**base, "position": 1, "code": "M54.50", "description": "Low back pain, unspecified"}
        ]
        regions += [{**base, "region": r} for r in ("low-back", "glute-l", "hamstring-l")]
    for model, data in ((NoteMinutes, minutes), (NoteDiagnosis, dx), (NoteBodyRegion, regions)):
        for batch in chunked(data, 500):
            model.insert_many(batch).execute()
    signed_ids = [n.id for n in notes[::2]]
    for batch in chunked(signed_ids, 500):
        ChartNote.update(
            status="signed",
            signed_at=now - dt.timedelta(days=1),
            signed_by=therapist.id,
            signature="Bench Therapist, LMT",
        ).where(ChartNote.id.in_(list(batch))).execute()


def attach(ctx):
    note = (
        ChartNote.select()
        .where((ChartNote.practice == ctx["practice"]) & (ChartNote.status == "signed"))
        .order_by(ChartNote.id)
        .first()
    )
    ctx["charting_note_id"] = note.id if note else None
    ctx["charting_client_id"] = note.client_id if note else None


def wrk_targets(ctx):
    if not ctx.get("charting_note_id"):
        return []
    email = ctx["therapist_email"]
    return [
        (
            "note_page",
            f"/provider/notes/{ctx['charting_note_id']}",
            email,
            {"min_ratio": 0.35, "max_p99_ms": 150},
        ),
        (
            "client_notes_page",
            f"/provider/clients/{ctx['charting_client_id']}/notes",
            email,
            {"min_ratio": 0.35, "max_p99_ms": 150},
        ),
    ]


def figures(ctx):
    if not ctx.get("charting_note_id"):
        return []
    client = ctx["login_client"](ctx["therapist_email"])
    url = f"/provider/notes/{ctx['charting_note_id']}/pdf"

    def get_pdf():
        r = client.get(url)
        assert r.status_code == 200 and r.data.startswith(b"%PDF")

    def getter(path, headers=None):
        def get():
            r = client.get(path, headers=headers or {})
            assert r.status_code == 200, r.status_code

        return get

    note = f"/provider/notes/{ctx['charting_note_id']}"
    section = f"/provider/clients/{ctx['charting_client_id']}/notes"
    median = ctx["median_ms"]
    return [
        ("note_page_inprocess_median", round(median(getter(note), n=100), 2), "ms"),
        (
            "client_notes_fragment_inprocess_median",
            round(median(getter(section, {"HX-Request": "true"}), n=100), 2),
            "ms",
        ),
        ("note_pdf_median", round(median(get_pdf, n=10, warmup=2), 1), "ms"),
    ]
