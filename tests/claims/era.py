"""835 files as payers and clearinghouses send them, built segment by segment for the
remittance edge-case tests: one or several transaction sets (ST/SE) in one interchange,
any separators and line breaks, PLB provider adjustments, notices (BPR01 H).

    body = ["CLP*V1P1*1*120*96*0*12*PAYER1*11*1", "SVC*HC:97124*120*96**4", "CAS*CO*45*24"]
    text = interchange([transaction(body, payment="96", trace="EFT1")])
    text = interchange([...], element="|", component=">", terminator="~\\n")

Segments are written with '*' and ':'; interchange() puts the separators asked for.
"""

PAYER_TIN = "1131234567"


def transaction(
    body,
    *,
    payment,
    trace,
    control="0001",
    handling="I",
    credit="C",
    method="ACH",
    payer_tin=PAYER_TIN,
    payer_name="BLUE HARBOR HEALTH",
    payer_id="BHH01",
    plb=(),
    paid_on="20261212",
    trace_supplement="",
):
    """One ST..SE 835 transaction: BPR, TRN, the payer and payee, LX*1, `body` (CLP loops),
    then `plb` segments; SE counts them. `trace_supplement` is TRN04 (none when ''), the
    payer's REF*2U is left out when `payer_id` is ''."""
    if handling == "H" or method == "NON":
        bpr = f"BPR*{handling}*{payment}*{credit}*NON************{paid_on}"
    else:
        bpr = (
            f"BPR*{handling}*{payment}*{credit}*{method}*CCP*01*021000021*DA*000123456789*"
            f"{payer_tin}**01*011000015*DA*000987654321*{paid_on}"
        )
    segs = [
        f"ST*835*{control}",
        bpr,
        f"TRN*1*{trace}*{payer_tin}" + (f"*{trace_supplement}" if trace_supplement else ""),
        "DTM*405*20261210",
        f"N1*PR*{payer_name}",
        "N3*PO BOX 4400",
        "N4*ALBANY*NY*122014400",
        f"REF*2U*{payer_id}",
        "PER*BL*PROVIDER EDI SUPPORT*TE*8005550142",
        "N1*PE*CALM HANDS MASSAGE*XX*1234567893",
    ]
    if not payer_id:
        segs.remove("REF*2U*")
    if body:
        segs.append("LX*1")
    segs += with_patient(body) + list(plb)
    segs.append(f"SE*{len(segs) + 1}*{control}")
    return segs


PATIENT = "NM1*QC*1*REYES*DANA****MI*XJH123456789"


def with_patient(body):
    """The body with the patient's NM1*QC (which the guide requires) after each CLP and its
    claim-level CAS, where the test did not write one."""
    out, in_claim_head = [], False
    for i, seg in enumerate(body):
        out.append(seg)
        if seg.startswith("CLP*"):
            in_claim_head = True
        if in_claim_head and seg.startswith(("CLP*", "CAS*")):
            nxt = body[i + 1] if i + 1 < len(body) else ""
            if not nxt.startswith("CAS*"):
                if not nxt.startswith("NM1*QC"):
                    out.append(PATIENT)
                in_claim_head = False
    return out


def interchange(
    transactions, *, control=88001, element="*", component=":", terminator="~\n", version=None
):
    """ISA/GS around the transactions, GE/IEA after, with the separators asked for."""
    isa = (
        "ISA*00*          *00*          *ZZ*BHH01          *ZZ*CHM0001        *261210*0600*^*"
        f"00501*{control:09d}*0*P*{component}"
    )
    gs = f"GS*HP*BHH01*CHM0001*20261210*0600*{control}*X*{version or '005010X221A1'}"
    segs = [isa, gs]
    for t in transactions:
        segs += t
    segs += [f"GE*{len(transactions)}*{control}", f"IEA*1*{control:09d}"]
    out = []
    for seg in segs:
        if element != "*":
            seg = seg.replace("*", element)
        if component != ":" and not seg.startswith("ISA"):
            seg = seg.replace(":", component)
        out.append(seg + terminator)
    return "".join(out)
