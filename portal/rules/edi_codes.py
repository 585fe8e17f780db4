"""The words for the codes payers and clearinghouses send: CARC and group codes (835 CAS),
RARC (835 LQ*HE), 277CA status categories, status codes and entities (STC), and 999 error
codes (IK3, IK4, IK5, AK9). Show the words, not only the number.

    adjustment_text("CO", "45")  -> "Contractual obligation: charge exceeds the fee
                                     schedule or the contracted amount (CO-45)"
    carc_text("1") -> "Deductible"            rarc_text("N130") -> "Consult plan benefit ..."
    stc_text("A7", "21", "85")  -> "Rejected for invalid information: missing or invalid
                                     information (billing provider) (A7:21)"
    segment_error_text("8"), element_error_text("7"), ack_text("R"), group_ack_text("P")

Unknown codes come back as "reason 999"-style words rather than an error: a new code from
a payer must never stop a remittance from being read.
"""

# Claim adjustment group codes (CAS01).
GROUPS = {
    "CO": "Contractual obligation",
    "PR": "Patient responsibility",
    "OA": "Other adjustment",
    "PI": "Payer-initiated reduction",
    "CR": "Correction or reversal",
}

# Claim adjustment reason codes (CAS02 ...), X12's list in shortened wording.
CARC = {
    "1": "Deductible",
    "2": "Coinsurance",
    "3": "Copay",
    "4": "The procedure code does not fit the modifier used",
    "5": "The procedure code does not fit the place of service",
    "6": "The procedure does not fit the patient's age",
    "7": "The procedure does not fit the patient's sex",
    "8": "The procedure does not fit the provider type or specialty",
    "9": "The diagnosis does not fit the patient's age",
    "11": "The diagnosis does not fit the procedure",
    "15": "The authorization number is missing, invalid, or does not apply",
    "16": "The claim lacks information or has a billing error",
    "18": "Exact duplicate claim or service",
    "19": "Work-related injury: the workers' compensation carrier is liable",
    "20": "Injury covered by the liability carrier",
    "21": "Injury covered by the no-fault carrier",
    "22": "Another payer may cover this (coordination of benefits)",
    "23": "The prior payer's payment and adjustments",
    "24": "Covered under a capitation agreement or managed care plan",
    "26": "Service before coverage began",
    "27": "Service after coverage ended",
    "29": "The time limit for filing has expired",
    "31": "The patient cannot be identified as the payer's insured",
    "32": "The patient is not an eligible dependent",
    "33": "The insured has no dependent coverage",
    "35": "Lifetime benefit maximum reached",
    "39": "Authorization was denied when requested",
    "45": "Charge exceeds the fee schedule or the contracted amount",
    "49": "Routine or preventive service, not covered",
    "50": "Not medically necessary in the payer's view",
    "51": "Pre-existing condition, not covered",
    "55": "Experimental or investigational in the payer's view",
    "56": "Not proven effective in the payer's view",
    "58": "Not payable in this place of service",
    "59": "Reduced under multiple or concurrent procedure rules",
    "94": "Processed in excess of charges",
    "96": "Non-covered charge",
    "97": "Included in the allowance for another service already adjudicated",
    "107": "The related or qualifying claim or service is not on this claim",
    "109": "Not covered by this payer: send it to the correct payer",
    "119": "Benefit maximum for this period or occurrence reached",
    "129": "Prior processing information appears incorrect",
    "140": "The patient's name and health ID number do not match",
    "146": "The diagnosis was invalid for the date of service",
    "149": "Lifetime benefit maximum reached for this benefit category",
    "151": "The information does not support this many or this frequency of services",
    "167": "The diagnosis is not covered",
    "170": "Not paid when performed or billed by this type of provider",
    "181": "The procedure code was invalid on the date of service",
    "182": "The modifier was invalid on the date of service",
    "183": "The referring provider may not refer this service",
    "185": "The rendering provider may not perform this service",
    "187": "Consumer spending account payment (HSA/FSA)",
    "197": "Prior authorization, pre-certification or notification absent",
    "198": "Prior authorization or pre-certification exceeded",
    "200": "Service during a lapse in coverage",
    "204": "Not covered under the patient's current benefit plan",
    "206": "NPI missing",
    "207": "NPI in an invalid format",
    "208": "NPI does not match",
    "226": "Information requested from the provider was not sent, late, or incomplete",
    "227": "Information requested from the patient was not sent or incomplete",
    "234": "This procedure is not paid separately",
    "236": "Not compatible with another procedure on the same day (NCCI or state rules)",
    "242": "Services not provided by network or primary care providers",
    "243": "Services not authorized by network or primary care providers",
    "253": "Sequestration: reduction in federal payment",
    "B7": "The provider was not certified or eligible for this service on this date",
    "B15": "Requires a qualifying service that was not received or covered",
    "B20": "Partly or fully furnished by another provider",
}

# Remittance advice remark codes (LQ*HE): a handful seen with massage and manual therapy.
RARC = {
    "M15": "Separately billed services were bundled as parts of the same procedure",
    "M20": "Missing, incomplete or invalid HCPCS code",
    "M51": "Missing, incomplete or invalid procedure code",
    "M62": "Missing, incomplete or invalid treatment authorization code",
    "M76": "Missing, incomplete or invalid diagnosis or condition",
    "M77": "Missing, incomplete or invalid place of service",
    "M86": "Denied: payment already made for the same or a similar procedure in the period",
    "MA04": "A secondary payment needs the primary payer's payment information",
    "MA130": "The claim is unprocessable (incomplete or invalid): submit a new claim",
    "N4": "Missing, incomplete or invalid prior insurance carrier EOB",
    "N19": "Procedure code incidental to the primary procedure",
    "N20": "Not payable with another service on the same date",
    "N54": "The claim does not match the pre-certified or authorized services",
    "N56": "The procedure code is not correct or valid for the service or date billed",
    "N130": "Consult the plan's benefit documents for restrictions on this service",
    "N290": "Missing, incomplete or invalid rendering provider identifier",
    "N362": "The days or units of service exceed the payer's acceptable maximum",
    "N386": "Decided under a National Coverage Determination",
    "N517": "Resubmit a new claim with the requested information",
}

# 277CA status category codes (STC01-1).
CATEGORIES_277 = {
    "A0": "Forwarded to another entity",
    "A1": "Received (not yet accepted for adjudication)",
    "A2": "Accepted into adjudication",
    "A3": "Returned as unprocessable",
    "A4": "Not found",
    "A5": "Split on acceptance",
    "A6": "Rejected for missing information",
    "A7": "Rejected for invalid information",
    "A8": "Rejected for a relational field in error",
    "DR": "Data reporting acknowledgment",
    "E0": "Response not possible: error in the submitted data",
    "E1": "Response not possible: system not available",
}
REJECTING_CATEGORIES = frozenset({"A3", "A6", "A7", "A8"})

# Claim status codes (STC01-2), the common ones in claim acknowledgments.
STATUS_CODES_277 = {
    "0": "Cannot provide further status electronically",
    "1": "See the remittance advice for details",
    "3": "Adjudicated, awaiting the payment cycle",
    "19": "Claim received",
    "20": "Accepted for processing",
    "21": "Missing or invalid information",
    "23": "Returned to the entity",
    "24": "Entity not approved as an electronic submitter",
    "26": "Entity not found",
    "29": "Subscriber and policy number do not match",
    "33": "Subscriber and subscriber ID not found",
    "35": "Claim not found",
    "116": "Claim submitted to the wrong payer",
    "145": "Entity's specialty or taxonomy code",
    "153": "Entity's ID number",
    "158": "Entity's date of birth",
    "164": "Entity's contract or member number",
    "187": "Dates of service",
    "247": "Line information",
    "255": "Diagnosis code",
    "453": "Procedure code modifiers",
    "454": "Procedure code",
    "562": "Entity's National Provider Identifier (NPI)",
}

# Entity identifier codes (STC01-3 and NM101).
ENTITIES = {
    "03": "dependent",
    "40": "receiver",
    "41": "submitter",
    "77": "service location",
    "82": "rendering provider",
    "85": "billing provider",
    "DN": "referring provider",
    "IL": "subscriber",
    "PR": "payer",
    "QC": "patient",
}

# 999 IK304: segment syntax errors.
SEGMENT_ERRORS = {
    "1": "Unrecognized segment",
    "2": "Unexpected segment",
    "3": "Required segment missing",
    "4": "Loop occurs over its maximum times",
    "5": "Segment exceeds its maximum use",
    "6": "Segment not in the defined transaction set",
    "7": "Segment not in its proper sequence",
    "8": "Segment has data element errors",
    "I4": "A segment the guide marks 'not used' is present",
    "I6": "An implementation-dependent segment is missing",
    "I7": "A loop occurs fewer times than the guide's minimum",
    "I8": "A segment occurs fewer times than the guide's minimum",
    "I9": "An implementation-dependent 'not used' segment is present",
}

# 999 IK403: data element errors.
ELEMENT_ERRORS = {
    "1": "Required element missing",
    "2": "Conditionally required element missing",
    "3": "Too many elements",
    "4": "Element too short",
    "5": "Element too long",
    "6": "Invalid character in element",
    "7": "Invalid code value",
    "8": "Invalid date",
    "9": "Invalid time",
    "10": "Exclusion condition violated",
    "12": "Too many repetitions",
    "13": "Too many components",
    "I6": "Code value not used in this implementation",
    "I9": "An implementation-dependent element is missing",
    "I10": "An element the guide marks 'not used' is present",
    "I11": "Too few repetitions",
    "I12": "Pattern match failure",
    "I13": "An implementation-dependent 'not used' element is present",
}

# 999 IK501 / AK901: acknowledgment codes.
ACK_CODES = {
    "A": "Accepted",
    "E": "Accepted with errors noted",
    "M": "Rejected: message authentication failed",
    "P": "Partially accepted: at least one transaction set was rejected",
    "R": "Rejected",
    "W": "Rejected: assurance failed validity tests",
    "X": "Rejected: content could not be analyzed after decryption",
}

# 999 IK502 ...: transaction set syntax errors.
TRANSACTION_ERRORS = {
    "1": "Transaction set not supported",
    "2": "Transaction set trailer missing",
    "3": "Control numbers in the header and trailer do not match",
    "4": "The segment count does not match",
    "5": "One or more segments in error",
    "6": "Missing or invalid transaction set identifier",
    "7": "Missing or invalid transaction set control number",
    "18": "Transaction set not in a functional group",
    "19": "Invalid implementation convention reference",
    "23": "Transaction set control number not unique in the group",
    "I5": "One or more segments in error (implementation)",
    "I6": "Implementation convention not supported",
}

# 999 AK905 ...: functional group syntax errors.
GROUP_ERRORS = {
    "1": "Functional group not supported",
    "2": "Functional group version not supported",
    "3": "Functional group trailer missing",
    "4": "Group control numbers in the header and trailer do not agree",
    "5": "The number of transaction sets does not match",
    "6": "Group control number violates syntax",
    "19": "Functional group control number not unique in the interchange",
}

# TA1 TA105: interchange note codes (what is wrong with a file's ISA/IEA envelope).
INTERCHANGE_NOTES = {
    "000": "no error",
    "001": "the interchange control numbers in the header and trailer do not match",
    "002": "this standard is not supported",
    "003": "this version of the controls is not supported",
    "004": "the segment terminator is invalid",
    "005": "invalid interchange ID qualifier for the sender",
    "006": "invalid interchange sender ID",
    "007": "invalid interchange ID qualifier for the receiver",
    "008": "invalid interchange receiver ID",
    "009": "unknown interchange receiver ID",
    "010": "invalid authorization information qualifier",
    "011": "invalid authorization information",
    "012": "invalid security information qualifier",
    "013": "invalid security information",
    "014": "invalid interchange date",
    "015": "invalid interchange time",
    "016": "invalid interchange standards identifier",
    "017": "invalid interchange version ID",
    "018": "invalid interchange control number",
    "019": "invalid acknowledgment requested value",
    "020": "invalid test indicator value",
    "021": "invalid number of included groups",
    "022": "invalid control structure",
    "023": "improper (premature) end of file",
    "024": "invalid interchange content (e.g. an invalid GS segment)",
    "025": "duplicate interchange control number",
    "026": "invalid data element separator",
    "027": "invalid component element separator",
    "028": "invalid delivery date in a deferred delivery request",
    "029": "invalid delivery time in a deferred delivery request",
    "030": "invalid delivery time code in a deferred delivery request",
    "031": "invalid grade of service code",
}
# The notes about what the practice's clearinghouse settings put in the ISA: the sender and
# receiver (qualifier and ID) and test or production (ISA15). The owner fixes these; the
# other notes are about the file itself, and the clearinghouse says what it needs.
INTERCHANGE_SETTINGS_NOTES = frozenset({"005", "006", "007", "008", "009", "020"})


def _lookup(table: dict[str, str], code: str, kind: str) -> str:
    code = (code or "").strip().upper()
    return table.get(code) or f"{kind} {code}".strip()


def _lower_first(words: str) -> str:
    """'Deductible' -> 'deductible', but 'NPI missing' stays."""
    if len(words) > 1 and words[1].isupper():
        return words
    return words[:1].lower() + words[1:]


def carc_text(reason: str) -> str:
    return _lookup(CARC, reason, "reason")


def group_text(group: str) -> str:
    return _lookup(GROUPS, group, "group")


def adjustment_text(group: str, reason: str) -> str:
    """'Contractual obligation: charge exceeds ... (CO-45)'."""
    words = carc_text(reason)
    return f"{group_text(group)}: {_lower_first(words)} ({group}-{reason})"


def rarc_text(code: str) -> str:
    return _lookup(RARC, code, "remark")


def category_text(category: str) -> str:
    return _lookup(CATEGORIES_277, category, "category")


def status_code_text(code: str) -> str:
    return _lookup(STATUS_CODES_277, code, "status")


def entity_text(code: str) -> str:
    return _lookup(ENTITIES, code, "entity")


def stc_text(category: str, code: str, entity: str = "") -> str:
    """'Rejected for invalid information: missing or invalid information (billing
    provider) (A7:21)'."""
    status = status_code_text(code)
    who = f" ({entity_text(entity)})" if entity else ""
    tag = ":".join(x for x in (category, code, entity) if x)
    return f"{category_text(category)}: {_lower_first(status)}{who} ({tag})"


def segment_error_text(code: str) -> str:
    return _lookup(SEGMENT_ERRORS, code, "segment error")


def element_error_text(code: str) -> str:
    return _lookup(ELEMENT_ERRORS, code, "element error")


def ack_text(code: str) -> str:
    return _lookup(ACK_CODES, code, "acknowledgment")


def transaction_error_text(code: str) -> str:
    return _lookup(TRANSACTION_ERRORS, code, "error")


def group_ack_text(code: str) -> str:
    return ack_text(code)


def group_error_text(code: str) -> str:
    return _lookup(GROUP_ERRORS, code, "error")


def interchange_note_text(code: str) -> str:
    """'note 006: invalid interchange sender ID', or 'note 099' for a code not in the list."""
    code = (code or "").strip()
    words = INTERCHANGE_NOTES.get(code)
    return f"note {code}: {words}" if words else f"note {code}"
