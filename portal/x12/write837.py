"""The 837P writer (005010X222A1): one file per payer batch, several claims.

    from portal.x12.write837 import write_837p
    text = write_837p(batch)          # batch: claim837.Batch; raises ValueError on input
                                      # that cannot make a valid claim (see _check_claim)

Layout: ISA/GS/ST, BHT, 1000A submitter, 1000B receiver, one 2000A billing provider
(PRV*BI taxonomy, NM1*85 with NPI, N3, N4, REF*EI), then per claim a 2000B subscriber
(SBR, NM1*IL, N3/N4/DMG when the subscriber is the patient, NM1*PR payer), a 2000C
patient loop when the patient is someone else, the 2300 claim (CLM, DTP*431/439,
REF*G1/F8, HI), 2310A referring and 2310B rendering providers, 2320/2330 prior payers
on secondary claims, and 2400 lines (LX, SV1, DTP*472, REF*6R, 2430 SVD/CAS/DTP*573);
SE/GE/IEA with their counts. Segments end with "~" and a line break.
"""

from portal.x12 import segments as x
from portal.x12.claim837 import (
    ACCIDENT_CAUSES,
    RELATIONSHIP_CODES,
    Address,
    Adjustment,
    Batch,
    BillingProvider,
    Claim,
    OtherPayer,
    Person,
    Provider,
    ServiceLine,
)
from portal.x12.segments import Writer, amount, clean, d8, digits

VERSION = "005010X222A1"
MAX_DIAGNOSES = 12
MAX_LINES = 50
MAX_POINTERS = 4


def _name(w: Writer, code: str, person: Person | Provider, qualifier: str, ident: str) -> None:
    x.nm1_person(
        w,
        code,
        person.last_name,
        person.first_name,
        qualifier,
        ident,
        getattr(person, "middle_name", ""),
        getattr(person, "suffix", ""),
    )


def _address(w: Writer, a: Address) -> None:
    w.seg("N3", clean(a.line1, 55), clean(a.line2, 55))
    w.seg("N4", clean(a.city, 30), clean(a.state, 2), digits(a.postal_code)[:9])


def _dmg(w: Writer, person: Person) -> None:
    if person.dob is None:
        raise ValueError(f"{person.first_name} {person.last_name}: a date of birth is needed")
    w.seg("DMG", "D8", d8(person.dob), person.sex if person.sex in ("F", "M") else "U")


def _header(w: Writer, batch: Batch) -> None:
    sender = batch.interchange_sender or batch.submitter.id
    receiver = batch.interchange_receiver or batch.receiver.id
    x.isa(
        w,
        sender,
        receiver,
        batch.interchange_control_number,
        batch.created,
        batch.usage,
        batch.sender_qualifier,
        batch.receiver_qualifier,
        batch.ack_requested,
    )
    x.gs(
        w,
        "HC",
        batch.application_sender or sender,
        batch.application_receiver or receiver,
        batch.group_control_number,
        batch.created,
        VERSION,
    )
    w.start_count()
    st02 = f"{batch.transaction_control_number:04d}"
    w.seg("ST", "837", st02, VERSION)
    reference = clean(batch.reference or str(batch.group_control_number), 50)
    w.seg("BHT", "0019", "00", reference, d8(batch.created), x.tm(batch.created), "CH")
    s = batch.submitter
    x.nm1_org(w, "41", s.name, "46", s.id)
    contact = ["PER", "IC", clean(s.contact_name, 60)]
    if s.phone:
        contact += ["TE", digits(s.phone)[-10:]]
    if s.email:
        contact += ["EM", s.email.strip()[:256].replace("*", "").replace("~", "")]
    if len(contact) == 3:
        raise ValueError("the submitter needs a phone number or an e-mail address")
    w.seg(*contact)
    x.nm1_org(w, "40", batch.receiver.name, "46", batch.receiver.id)


def _billing(w: Writer, b: BillingProvider) -> None:
    w.seg("HL", "1", "", "20", "1")
    w.seg("PRV", "BI", "PXC", b.taxonomy)
    if b.first_name:
        x.nm1_person(w, "85", b.name, b.first_name, "XX", b.npi)
    else:
        x.nm1_org(w, "85", b.name, "XX", b.npi)
    if len(digits(b.address.postal_code)) != 9:
        raise ValueError("the billing provider's ZIP code needs all 9 digits (ZIP+4)")
    _address(w, b.address)
    w.seg("REF", "EI" if b.tax_id_kind == "ein" else "SY", digits(b.tax_id))


def _subscriber(w: Writer, claim: Claim, hl: int) -> None:
    sub = claim.subscriber
    is_patient = claim.patient is None
    w.seg("HL", str(hl), "1", "22", "0" if is_patient else "1")
    group_name = clean(sub.group_name, 60) if not sub.group_number else ""
    w.put(
        "SBR",
        {
            1: sub.responsibility,
            2: "18" if is_patient else "",
            3: clean(sub.group_number, 50),
            4: group_name,
            9: sub.filing_indicator,
        },
    )
    _name(w, "IL", sub.person, "MI", sub.member_id)
    if is_patient:
        if sub.person.address is None:
            raise ValueError(f"claim {claim.patient_control_number}: the patient's address")
        _address(w, sub.person.address)
        _dmg(w, sub.person)
        if sub.property_casualty_claim_number:
            w.seg("REF", "Y4", clean(sub.property_casualty_claim_number, 50))
    elif sub.person.address is not None:
        _address(w, sub.person.address)
    p = claim.payer
    x.nm1_org(w, "PR", p.name, "PI", p.payer_id)
    if p.address is not None:
        _address(w, p.address)


def _patient(w: Writer, claim: Claim, hl: int, parent: int) -> None:
    patient = claim.patient
    if patient.address is None:
        raise ValueError(f"claim {claim.patient_control_number}: the patient's address")
    if claim.relationship not in ("spouse", "child", "other"):
        raise ValueError("a patient who is not the subscriber is a spouse, child or other")
    w.seg("HL", str(hl), str(parent), "23", "0")
    w.seg("PAT", RELATIONSHIP_CODES[claim.relationship])
    _name(w, "QC", patient, "", "")
    _address(w, patient.address)
    _dmg(w, patient)
    if claim.subscriber.property_casualty_claim_number:
        w.seg("REF", "Y4", clean(claim.subscriber.property_casualty_claim_number, 50))


def _clm(w: Writer, claim: Claim) -> None:
    related = ""
    if claim.accident is not None:
        acc = claim.accident
        state = clean(acc.state, 2) if acc.cause == "AA" else ""
        related = w.comp(acc.cause, "", "", state)
    pos = w.comp(claim.place_of_service, "B", claim.frequency)
    w.put(
        "CLM",
        {
            1: clean(claim.patient_control_number, 20),
            2: amount(claim.total_cents),
            5: pos,
            6: "Y" if claim.provider_signature else "N",
            7: claim.assignment,
            8: claim.benefits_assigned,
            9: claim.release_of_information,
            11: related,
        },
    )
    onset = claim.onset_date
    if onset is None and claim.accident is not None and claim.accident.cause == "EM":
        onset = claim.accident.date
    if onset is not None:
        w.seg("DTP", "431", "D8", d8(onset))
    if claim.accident is not None and claim.accident.cause in ("AA", "OA"):
        w.seg("DTP", "439", "D8", d8(claim.accident.date))
    if claim.referral_number:
        w.seg("REF", "9F", clean(claim.referral_number, 50))
    if claim.prior_authorization:
        w.seg("REF", "G1", clean(claim.prior_authorization, 50))
    if claim.frequency in ("7", "8"):
        w.seg("REF", "F8", clean(claim.original_claim_number, 50))
    codes = [clean(code.replace(".", ""), 30) for code in claim.diagnoses]
    w.seg("HI", *(w.comp("ABK" if n == 0 else "ABF", c) for n, c in enumerate(codes)))


def _providers(w: Writer, claim: Claim, billing: BillingProvider) -> None:
    if claim.referring is not None:
        _name(w, claim.referring.qualifier, claim.referring, "XX", claim.referring.npi)
    # 2310B only when the rendering provider is not the billing provider (the guide says
    # not to send it otherwise: a therapist billing under their own NPI).
    if claim.rendering is not None and claim.rendering.npi != billing.npi:
        _name(w, "82", claim.rendering, "XX", claim.rendering.npi)
        if claim.rendering.taxonomy:
            w.seg("PRV", "PE", "PXC", claim.rendering.taxonomy)


def _cas(w: Writer, adjustments: tuple[Adjustment, ...]) -> None:
    x.cas(w, ((a.group, a.reason, a.cents) for a in adjustments))


def _other_payer(w: Writer, other: OtherPayer) -> None:
    w.put(
        "SBR",
        {
            1: other.responsibility,
            2: RELATIONSHIP_CODES.get(other.relationship, "G8"),
            3: clean(other.group_number, 50),
            9: other.filing_indicator,
        },
    )
    _cas(w, other.adjustments)
    w.seg("AMT", "D", amount(other.paid_cents))
    w.put("OI", {3: "Y", 6: "Y"})  # benefits assigned, release of information
    _name(w, "IL", other.subscriber, "MI", other.member_id)
    x.nm1_org(w, "PR", other.payer.name, "PI", other.payer.payer_id)
    if not other.lines:
        w.seg("DTP", "573", "D8", d8(other.paid_date))


def _line(w: Writer, claim: Claim, n: int, line: ServiceLine) -> None:
    w.seg("LX", str(n))
    procedure = w.comp("HC", line.code, *line.modifiers)
    pos = line.place_of_service if line.place_of_service != claim.place_of_service else ""
    pointers = w.comp(*(str(p) for p in line.pointers))
    w.put(
        "SV1",
        {
            1: procedure,
            2: amount(line.charge_cents),
            3: "UN",
            4: str(line.units),
            5: pos,
            7: pointers,
        },
    )
    w.seg("DTP", "472", "D8", d8(line.service_date))
    if line.control_number:
        w.seg("REF", "6R", clean(line.control_number, 50))
    for other in claim.other_payers:
        for adj in other.lines:
            if adj.line_number == n:
                w.put(
                    "SVD",
                    {
                        1: clean(other.payer.payer_id, 80),
                        2: amount(adj.paid_cents),
                        3: procedure,
                        5: str(line.units),
                    },
                )
                _cas(w, adj.adjustments)
                w.seg("DTP", "573", "D8", d8(adj.paid_date))


def _check_claim(claim: Claim) -> None:
    pcn = claim.patient_control_number
    if not clean(pcn) or len(clean(pcn)) > 20:
        raise ValueError(f"patient control number {pcn!r}: 1 to 20 characters")
    if not claim.lines or len(claim.lines) > MAX_LINES:
        raise ValueError(f"claim {pcn}: 1 to {MAX_LINES} service lines")
    if not claim.diagnoses or len(claim.diagnoses) > MAX_DIAGNOSES:
        raise ValueError(f"claim {pcn}: 1 to {MAX_DIAGNOSES} diagnoses")
    for line in claim.lines:
        if not line.pointers or len(line.pointers) > MAX_POINTERS:
            raise ValueError(f"claim {pcn}: each line points to 1 to 4 diagnoses")
        if any(not 1 <= p <= len(claim.diagnoses) for p in line.pointers):
            raise ValueError(f"claim {pcn}: a pointer names no diagnosis of the claim")
        if line.units < 1 or line.charge_cents <= 0:
            raise ValueError(f"claim {pcn}: each line needs units and a charge")
    if claim.frequency not in ("1", "7", "8"):
        raise ValueError(f"claim {pcn}: frequency 1, 7 or 8")
    if claim.frequency in ("7", "8") and not claim.original_claim_number.strip():
        raise ValueError(f"claim {pcn}: a corrected or void claim names the original's number")
    acc = claim.accident
    if acc is not None:
        if acc.cause not in ACCIDENT_CAUSES:
            raise ValueError(f"claim {pcn}: accident cause AA, EM or OA")
        if acc.cause in ("AA", "OA") and acc.date is None:
            raise ValueError(f"claim {pcn}: an accident claim needs the accident date")
        if acc.cause == "AA" and len(clean(acc.state)) != 2:
            raise ValueError(f"claim {pcn}: an auto accident claim needs the state")


def write_837p(batch: Batch) -> str:
    """The whole 837P file for the batch, as text."""
    if not batch.claims:
        raise ValueError("a batch holds at least one claim")
    for claim in batch.claims:
        _check_claim(claim)
    w = Writer()
    _header(w, batch)
    _billing(w, batch.billing_provider)
    hl = 1
    for claim in batch.claims:
        hl += 1
        subscriber_hl = hl
        _subscriber(w, claim, hl)
        if claim.patient is not None:
            hl += 1
            _patient(w, claim, hl, subscriber_hl)
        _clm(w, claim)
        _providers(w, claim, batch.billing_provider)
        for other in claim.other_payers:
            _other_payer(w, other)
        for n, line in enumerate(claim.lines, start=1):
            _line(w, claim, n, line)
    x.trailer(
        w,
        f"{batch.transaction_control_number:04d}",
        batch.group_control_number,
        batch.interchange_control_number,
    )
    return w.text()
