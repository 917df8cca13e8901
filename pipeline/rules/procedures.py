"""OPCS-4 conventions: the supplementary codes an operation takes (approach, image control,
arterial approach, site, laterality, spinal levels), and what an endoscopy or an operation note
codes and leaves out (citations in ``rules.yaml``)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace

from clincoder.core.codes import System, opcs4_supplementary
from clincoder.core.contracts import Mention, SentenceRecord
from clincoder.core.index_terms import index_terms
from clincoder.core.schema import NOT_CODED, CodeSuggestion, Evidence
from clincoder.core.tables import CodeEntry, CodeTable
from clincoder.core.words import OPERATION_WORD, SIDE_WORDS, content_words

from .engine import Work, evidence, mention_words, own_title, same_statement
from .refs import code_refs, in_refs
from .registry import rule
from .schema import MessageParams, Rule, check_codes, check_entries


@dataclass(frozen=True)
class SupplementaryParams:
    # {codes, words, add, group?, unless_titled?, once?}: within a group the first entry that applies
    # wins; not where the operation's own title already says it (an "endobronchial ultrasound" needs
    # no Y53.2); once: "yes", after the first operation only (the session's cardiopulmonary bypass)
    codes: tuple[dict, ...]
    message: str
    # groups whose wording holds for every operation listed in ``sections`` (one session: the
    # laparoscopic approach of the cholecystectomy is the cholangiogram's too), unless an
    # operation's own words say otherwise (``unless``: "open", "converted")
    shared: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    unless: str = r"(?!)"
    # shared groups that hold for the session only where its wording names one of them (one side:
    # the lens implant after the left phaco is on the left eye), whatever the approach
    one_of: tuple[str, ...] = ()
    # groups read, where the operation and its session name none, from the statement of the
    # primary diagnosis, the condition operated on ("fracture of the left distal radius ... the
    # fracture was manipulated": W26.2 on the left radius); a ``one_of`` group only where it names one
    from_primary: tuple[str, ...] = ()
    # groups that the procedures heading gives each operation listed under it, whatever the
    # operations' own statements say ("Procedure (under GA, with fluoroscopic control):")
    from_heading: tuple[str, ...] = ()
    # the label that opens a header line carrying the session's statement, the first line of the
    # procedures section ("Procedure: R shoulder arthroscopy, beach chair", before its steps)
    labelled: str = r"(?!)"
    # groups that a line of the procedures sections naming the access gives each operation listed
    # there ("- Access: right radial artery, 6F.", before "- PCI to RCA: ..."), and those lines
    from_access: tuple[str, ...] = ()
    access: str = r"(?!)"
    access_unless: str = r"(?!)"  # an operation whose own words name another route takes no access line
    # groups read from the operation's account too: the rest of the paragraph or list item its
    # statement opens (``account`` ends it), up to another operation's statement ("Pacing lead
    # positioned in the right ventricle. ... under fluoroscopic guidance")
    from_account: tuple[str, ...] = ()
    account: str = r"(?!)"
    # groups read from the whole procedures section where the episode has one operation only
    # ("Proc: ESWL" in the header, then under "Procedure:" "- stone targeted with fluoroscopy")
    from_section: tuple[str, ...] = ()
    # where the letter has no procedures section: the sections that do not tell the session (the
    # history, the plan), whose statements of an operation are not read as its own
    not_the_session: tuple[str, ...] = ()
    past: str = r"(?!)"  # ... nor a sentence that dates what it tells to another episode
    # and from a paragraph these words open, the operation told in prose ("At operation on
    # 20/10/2026, ... passed into the right lateral ventricle under intraoperative ultrasound guidance")
    operation_told: str = r"(?!)"

    def __post_init__(self):
        check_entries(self.codes, "codes", {"codes": str, "words": str, "add": str},
                      {"group": str, "unless_titled": str, "once": str})
        re.compile(self.unless)
        re.compile(self.account)
        re.compile(self.labelled)
        re.compile(self.past)
        re.compile(self.operation_told)
        re.compile(self.access)
        re.compile(self.access_unless)
        for entry in self.codes:
            re.compile(entry.get("unless_titled", ""))


def _session_says(p: SupplementaryParams, s: CodeSuggestion, entry: dict, session: str, opened: bool):
    """The session's wording of ``entry`` for an operation listed with it: an approach unless the
    operation's own words make it open; a side only where the session names one side."""
    group = entry.get("group") or entry["add"]
    if group not in p.one_of:
        return None if opened else re.search(entry["words"], session, re.I)
    return re.search(entry["words"], session, re.I) if _named(p, s, group, session) == {entry["add"]} else None


def _named(p: SupplementaryParams, s: CodeSuggestion, group: str, text: str) -> set[str]:
    """The codes of ``group`` for ``s`` whose words ``text`` has (the sides it names, for laterality)."""
    return {e["add"] for e in p.codes if (e.get("group") or e["add"]) == group
            and in_refs(s.code, code_refs(e["codes"])) and re.search(e["words"], text, re.I)}


def _headings(w: Work, sections: tuple[str, ...]) -> list[str]:
    """The headings of the letter's ``sections``: a heading sentence kept in one ("Procedure (GA) -
    bilateral FESS:"), and the text between a run of its sentences and the sentence before, where
    it ends with a colon (a header the text stage reads as the section's title)."""
    out, before = [], 0
    for x in w.sentences:
        text = w.text[x.start:x.end]
        if x.section in sections:
            gap = w.text[before:x.start].strip()
            if text.rstrip().endswith(":"):
                out.append(text)
            elif gap.endswith(":"):
                out.append(gap.splitlines()[-1] if "\n\n" not in gap else gap.split("\n\n")[-1])
        before = x.end
    return out


def _labelled_lines(w: Work, p: SupplementaryParams) -> list[str]:
    """The first sentence of each run of the procedures sections' sentences that opens with the
    section's label and goes on to state the session ("Procedure: R shoulder arthroscopy, beach
    chair", the header line before its steps): the session's words, not a heading's."""
    out, inside = [], False
    for x in w.sentences:
        if x.section in p.sections and not inside and re.match(p.labelled, w.text[x.start:x.end], re.I):
            out.append(w.text[x.start:x.end])
        inside = x.section in p.sections
    return out


def _section_text(w: Work, p: SupplementaryParams, procedures: list[CodeSuggestion]) -> str:
    """The procedures sections' text, and the paragraphs that open by telling the operation,
    where the episode has one operation only (the others suggested are supplementary codes)."""
    if not p.from_section or sum(not opcs4_supplementary(s.code) for s in procedures) != 1:
        return ""
    own = "|".join(e["words"] for e in p.codes if (e.get("group") or e["add"]) in p.from_section)

    def tells_another(x) -> bool:  # a procedure named in the sentence that is not the imaging itself ("CT chest")
        return any(m.procedural and x.start <= m.start < x.end and not re.search(own, m.text, re.I) for m in w.mentions)

    told = re.finditer(rf"(?:\A|\n[ \t]*\n)[ \t]*(?:{p.operation_told})(?:.|\n(?![ \t]*\n))*", w.text, re.I)
    return " ".join([*(w.text[x.start:x.end] for x in w.sentences if x.section in p.sections and not tells_another(x)),
                     *(m.group(0) for m in told)])


def _account(w: Work, p: SupplementaryParams, s: CodeSuggestion, procedures: list[CodeSuggestion],
             statements: list[SentenceRecord]) -> str:
    """The rest of each paragraph or list item that a statement of the operation in this episode
    (its evidence, or ``statements`` of it elsewhere) opens, up to another operation's statement
    or a procedure named that is another operation's."""
    if not p.from_account:
        return ""
    theirs = [w.words(o) for o in procedures if o is not s and not opcs4_supplementary(o.code)]
    mine = w.words(s)
    # the words the account is read for ("under fluoroscopic guidance") name no other operation
    read_for = "|".join(e["words"] for e in p.codes if (e.get("group") or e["add"]) in p.from_account)
    # another operation's statements, and the procedures the letter names that are its and not this
    # one's ("Automated RCE ... R femoral vascath under US guidance": the line's guidance)
    named = [m for m in w.mentions if m.procedural and not re.search(read_for, m.text, re.I)]
    others = sorted([e.start for o in procedures if o is not s for e in o.evidence]
                    + [m.start for m in named if not mention_words(m) & mine
                       and any(mention_words(m) & words for words in theirs)])
    account, parts = re.compile(p.account), []
    for start, end in [*((e.start, e.end) for e in s.evidence if e.assertion == "present"),
                       *((x.start, x.end) for x in statements)]:
        told = start + len(w.text[start:end].rstrip())  # a statement's span may hold the blank line that ends its paragraph
        parts.append(w.text[told:_told_until(w, told, account, others)])
    return " ".join(parts)


def _told_until(w: Work, told: int, end: re.Pattern, others: list[int]) -> int:
    """Where the account that runs on from ``told`` stops: at ``end`` (a blank line, the next list
    item) or at the first of ``others`` (another operation's statement, or a procedure named that
    is another operation's) after it."""
    close = end.search(w.text, told)
    return min([close.start() if close else len(w.text), *(x for x in others if x >= told)])


def _session_sentences(w: Work, p: SupplementaryParams) -> tuple[SentenceRecord, ...]:
    """The sentences that tell the session: those of the procedures sections or, where the letter
    has none, those of the episode's story, not one that dates what it tells to another episode
    ("In 2019 he had a mechanical thrombectomy")."""
    return tuple(w.sentences_in(p.sections) or [x for x in w.episode_sentences(p.not_the_session)
                                                if not re.search(p.past, w.text[x.start:x.end], re.I)])


def _told_of_session(w: Work, p: SupplementaryParams, s: CodeSuggestion, procedures: list[CodeSuggestion],
                     told: tuple[SentenceRecord, ...]) -> list[SentenceRecord]:
    """For an operation none of whose statements lies in the procedures sections, the sentences
    of ``told`` (:func:`_session_sentences`: where the letter has no such section, those of the
    episode's story, "- Mechanical thrombectomy ... R common femoral artery access, fluoroscopic
    guidance") whose procedure names it, by more of its words than any other coded operation's: its own
    statement of the session ("Right internal jugular tunnelled cuffed haemodialysis catheter ...
    under ultrasound and fluoroscopic guidance" is the tunnelled line's, which the suggester read
    from "A tunnelled line was chosen over a temporary line")."""
    if any(e.section in p.sections for e in s.evidence):
        return []
    mine = w.words(s)
    theirs = [w.words(o) for o in procedures if o is not s and not opcs4_supplementary(o.code)]

    def names_it(m: Mention) -> bool:
        n = len(mention_words(m) & mine)
        return n >= 2 and all(len(mention_words(m) & words) < n for words in theirs)

    return [x for x in told if x.assertion == "present"
            and any(m.procedural and x.start <= m.start < x.end and names_it(m) for m in w.mentions)]


@dataclass(frozen=True)
class _Session:
    """What the letter says of the operating session as a whole: the procedures heading, the
    access lines, the operations' statements there, the primary diagnosis's statement and, for an
    episode of one operation, its procedures section."""
    heading: str
    access: str
    words: str  # the operations' statements under the procedures heading, and its header lines
    condition: str
    section: str
    told: tuple[SentenceRecord, ...]  # the sentences that tell the session (:func:`_session_sentences`)


@dataclass(frozen=True)
class _Told:
    """What the letter says of one operation of this episode: its statements (and those of it
    elsewhere), whether one is under the procedures heading, whether its words make it open, the
    rest of its account, and the groups its own words name."""
    said: str
    listed: bool
    opened: bool
    account: str
    own: frozenset[str]


def _session(w: Work, p: SupplementaryParams, procedures: list[CodeSuggestion]) -> _Session:
    """What the letter says of the session (see :class:`_Session`)."""
    # the session's words: its operations' statements and the procedures heading ("Procedure (GA) -
    # bilateral FESS:" is the approach of each operation listed under it)
    heading = " ".join(_headings(w, p.sections))
    access = " ".join(m.group(0) for x in w.sentences if x.section in p.sections
                      for m in re.finditer(p.access, w.text[x.start:x.end], re.I | re.M))
    session = " ".join(dict.fromkeys([*(e.text for s in procedures for e in s.evidence if e.section in p.sections),
                                      heading, *_labelled_lines(w, p)]))
    primary = next((s for s in w.codes if s.kind == "diagnosis"), None)
    condition = " ".join(e.text for e in primary.evidence if e.assertion == "present") if primary else ""
    return _Session(heading, access, session, condition, _section_text(w, p, procedures), _session_sentences(w, p))


def _told(w: Work, p: SupplementaryParams, s: CodeSuggestion, procedures: list[CodeSuggestion], at: _Session) -> _Told:
    """What the letter says of the operation ``s`` (see :class:`_Told`)."""
    # what the letter says of this episode's operation, not of one in the history ("Right eye:
    # pseudophakic since phaco + IOL in 2023" says nothing of today's left phaco)
    said = " ".join(e.text for e in s.evidence if e.assertion == "present") or " ".join(e.text for e in s.evidence)
    statements = _told_of_session(w, p, s, procedures, at.told)
    said = " ".join([said, *(w.text[x.start:x.end] for x in statements)])
    # a group its own statement names is read from there only ("right common femoral artery
    # access", beside "the left radial artery was used for the pigtail catheter" after it)
    own = frozenset(e.get("group") or e["add"] for e in p.codes
                    if in_refs(s.code, code_refs(e["codes"])) and re.search(e["words"], said, re.I))
    return _Told(said, any(e.section in p.sections for e in s.evidence), re.search(p.unless, said, re.I) is not None,
                 _account(w, p, s, procedures, statements), own)


def _found(p: SupplementaryParams, s: CodeSuggestion, entry: dict, at: _Session, op: _Told) -> re.Match | None:
    """The words that call for ``entry``'s code after ``s``: its own statements first, then what the
    session, the heading, the access line, its account and the procedures section say, then the
    statement of the primary diagnosis."""
    group = entry.get("group") or entry["add"]
    # (an operation whose own words name another route, a vein, takes neither the session's
    # arterial access nor the access line: "pacemaker implanted via the left cephalic vein")
    routed = group in p.from_access and re.search(p.access_unless, op.said, re.I) is not None
    found = re.search(entry["words"], op.said, re.I) or (
        _session_says(p, s, entry, at.words, op.opened) if op.listed and group in p.shared and not routed else None) or (
        re.search(entry["words"], at.heading, re.I) if op.listed and group in p.from_heading else None) or (
        re.search(entry["words"], at.access, re.I) if op.listed and group in p.from_access and group not in op.own
        and not routed else None) or (
        re.search(entry["words"], op.account, re.I) if group in p.from_account and group not in op.own else None) or (
        re.search(entry["words"], at.section, re.I) if group in p.from_section else None)
    if found is None and group in p.from_primary and not _named(p, s, group, f"{op.said} {at.words}"):
        found = _session_says(p, s, entry, at.condition, False)
    return found


@rule("SUP-001", "conventions", SupplementaryParams)
def supplementary(w: Work, r: Rule) -> None:
    p: SupplementaryParams = r.params
    placed: set[int] = set()  # the supplementary codes this rule has put after a procedure
    procedures = [s for s in w.scope(r) if s.kind == "procedure"]
    at = _session(w, p, procedures)
    for s in procedures:
        op = _told(w, p, s, procedures, at)
        system, done, after = System.parse(s.system), set(), s
        for entry in p.codes:
            group = entry.get("group") or entry["add"]
            if group in done or not in_refs(s.code, code_refs(entry["codes"])) or \
                    "unless_titled" in entry and re.search(entry["unless_titled"], s.title, re.I) or \
                    entry.get("once") == "yes" and w.suggested(system, entry["add"]) is not None:
                continue  # (a code the session has once, after its first operation: the bypass)
            found = _found(p, s, entry, at, op)
            if found is None:
                continue
            done.add(group)
            added = w.attach(r, system, entry["add"], s, after, placed)
            if added is not None:
                after = added
                w.tag(r, s)
                w.flag(r, p.message, s, codes=(s.code, added.code), other=added.code, mention=found.group(0))


@dataclass(frozen=True)
class EndoscopyParams:
    groups: tuple[dict, ...]  # {diagnostic, therapeutic, words?}: code ranges of one endoscopic route
    biopsy: str  # a diagnostic code whose title matches this is kept (the biopsy at the endoscopy)
    message: str

    def __post_init__(self):
        check_entries(self.groups, "groups", {"diagnostic": str, "therapeutic": str}, {"words": str})
        re.compile(self.biopsy)
        for group in self.groups:
            re.compile(group.get("words", ""))


@rule("CON-009", "conventions", EndoscopyParams)
def diagnostic_beside_therapeutic_endoscopy(w: Work, r: Rule) -> None:
    """A diagnostic endoscopy is not coded beside a therapeutic one of the same route."""
    p: EndoscopyParams = r.params
    suggested = list(w.scope(r))
    for group in p.groups:
        diagnostic, therapeutic = code_refs(group["diagnostic"]), code_refs(group["therapeutic"])
        # (with ``words``, only an operation whose statements say them: "laparoscopic", the route)
        done = [s for s in suggested if in_refs(s.code, therapeutic)
                and re.search(group.get("words", ""), " ".join(e.text for e in s.evidence), re.I)]
        if not done:
            continue
        for s in suggested:
            if in_refs(s.code, diagnostic) and not re.search(p.biopsy, s.title, re.I):
                w.demote(s)
                w.tag(r, s, done[0])
                w.flag(r, p.message, s, codes=(s.code, done[0].code), other=done[0].code)


@dataclass(frozen=True)
class LeftAtOperationParams:
    codes: tuple[str, ...]  # what is left at the end of an operation (a chest drain, a urethral catheter)
    minor: tuple[str, ...]  # procedures that are no operation whose note leaves one (a transfusion, imaging)
    sections: tuple[str, ...]  # the headings an operation's note stands under ("Procedures", "Operation")
    note_end: str  # what ends an operation's note (a blank line)
    placed: str  # words that tell a drain or catheter put in ("inserted", "sited")
    message: str

    def __post_init__(self):
        check_codes((*self.codes, *self.minor), "codes")
        re.compile(self.note_end)
        re.compile(self.placed)


def _in_note(w: Work, e: Evidence, host: CodeSuggestion, others: list[CodeSuggestion], end: re.Pattern,
             sections: tuple[str, ...]) -> bool:
    """Whether ``e`` lies in the note of an operation: after a present statement of ``host`` under
    one of ``sections``, to the end of its paragraph, up to another operation's statement."""
    starts = [x.start for o in others for x in o.evidence]
    return any(e.start < _told_until(w, told.start + len(told.text.rstrip()), end, [x for x in starts if x > told.start])
               for told in host.evidence if told.assertion == "present" and told.start < e.start
               and told.section in sections)


@rule("CON-051", "conventions", LeftAtOperationParams)
def left_at_the_operation(w: Work, r: Rule) -> None:
    """A drain or catheter that the note of an operation leaves at its end ("Single 28 Fr chest
    drain to a digital drainage system" after a lobectomy) is part of that operation, where no
    other statement tells it put in ("the drain bubbled", "after drain removal" tell its care)."""
    p: LeftAtOperationParams = r.params
    refs, minor, end = code_refs(" ".join(p.codes)), code_refs(" ".join(p.minor)), re.compile(p.note_end)
    procedures = [s for s in w.scope(r) if s.kind == "procedure"]
    hosts = [s for s in procedures if not opcs4_supplementary(s.code) and not in_refs(s.code, refs + minor)]
    others = {id(h): [o for o in hosts if o is not h] for h in hosts}
    for s in (s for s in procedures if in_refs(s.code, refs)):
        told = [e for e in s.evidence if e.assertion == "present"]
        noted = {id(e): next((h for h in hosts if _in_note(w, e, h, others[id(h)], end, p.sections)), None)
                 for e in told}
        host = next((h for h in noted.values() if h is not None), None)
        if host is not None and not any(noted[id(e)] is None and re.search(p.placed, e.text, re.I) for e in told):
            w.demote(s)
            w.tag(r, s, host)
            w.flag(r, p.message, s, codes=(s.code, host.code), other=host.code)


@dataclass(frozen=True)
class EndoscopyBiopsyParams:
    endoscopies: tuple[str, ...]  # diagnostic endoscopy categories with an "and biopsy" code
    biopsy: str  # a procedure mention (and a code title) that names a biopsy
    account: str  # what ends the account of one endoscopy: a blank line or the next list item
    message: str

    def __post_init__(self):
        check_codes(self.endoscopies, "endoscopies")
        re.compile(self.biopsy)
        re.compile(self.account)


def _biopsy_code(w: Work, s: CodeSuggestion, pattern: str) -> str | None:
    """The first code of ``s``'s category whose title names a biopsy (H22.1 for H22.9)."""
    table, entry = w.entry(s)
    parent = table.parent(entry.code) if entry is not None else None
    children = table.children(parent.code) if parent is not None else []
    return next((c.code for c in children if c.selectable and re.search(pattern, c.title, re.I)), None)


def _biopsy_taken(w: Work, s: CodeSuggestion, p: EndoscopyBiopsyParams) -> bool:
    """Whether a present biopsy mention stands in the account of the endoscopy behind ``s``: from
    its evidence to the end of its paragraph or list item ("Colonoscopy: ulcers in the caecum.
    Six biopsies taken from the caecum.")."""
    for e in s.evidence:
        end = re.compile(p.account).search(w.text, e.end)
        stop = end.start() if end else len(w.text)
        if any(m.label == "PROCEDURE" and m.assertion == "present" and e.start <= m.start < stop
               and re.search(p.biopsy, " ".join(filter(None, (m.text, m.canonical))), re.I) for m in w.mentions):
            return True
    return False


@rule("CON-026", "conventions", EndoscopyBiopsyParams)
def endoscopy_with_biopsy(w: Work, r: Rule) -> None:
    """A diagnostic endoscopy at which a biopsy was taken is the category's "and biopsy" code."""
    p: EndoscopyBiopsyParams = r.params
    endoscopies = code_refs(" ".join(p.endoscopies))
    for s in list(w.scope(r)):
        if not in_refs(s.code, endoscopies) or re.search(p.biopsy, s.title, re.I) or not _biopsy_taken(w, s, p):
            continue
        code = _biopsy_code(w, s, p.biopsy)
        if code is not None:
            w.flag(r, p.message, s, codes=(s.code, code), other=code)
            w.replace(r, s, System.parse(s.system), code)

@dataclass(frozen=True)
class SideParams:
    codes: tuple[str, ...]  # the laterality codes
    paired: tuple[str, ...]  # the operations on paired organs and limbs (ranges, one string or more)
    message: str
    # supplementary codes of a second site of the operation, whose own side follows them (the
    # harvest of a graft's skin from the left postauricular skin, Y58.1 Z94.3)
    opens: tuple[str, ...] = ()

    def __post_init__(self):
        check_codes(self.codes, "codes")
        check_codes(self.paired, "paired")
        check_codes(self.opens, "opens")


@rule("SUP-003", "conventions", SideParams)
def side_of_a_paired_organ(w: Work, r: Rule) -> None:
    """A laterality code only where an operation on a paired organ or limb is coded, and once
    after each operation."""
    sides, paired = code_refs(" ".join(r.params.codes)), code_refs(" ".join(r.params.paired))
    opens = code_refs(" ".join(r.params.opens))
    procedures = [s for s in w.scope(r) if s.kind == "procedure"]
    operations = [s for s in procedures if not opcs4_supplementary(s.code)]
    any_paired = any(in_refs(s.code, paired) for s in operations)
    operation, sided = None, False
    for s in procedures:
        if not opcs4_supplementary(s.code) or in_refs(s.code, opens):
            operation, sided = s, False
        elif in_refs(s.code, sides):
            # (a second site's side stands whatever the operation: the donor skin of a nose's graft)
            if (any_paired or operation is not None and in_refs(operation.code, opens)) and not sided:
                sided = True
                continue
            w.demote(s)
            w.tag(r, s)
            w.flag(r, r.params.message, s, other=operation.code if operation else "an operation")


# a vertebra ("C5", "T12", "S1") or a run of them ("C5-C6", "L4/5", "T4 to T12", "L5-S1")
# (not an MRI sequence: "T2 signal change", "T1-weighted")
_VERTEBRAE = re.compile(r"\b([CTLS])(\d{1,2})(?:\s*(?:-|–|/|\bto\b)\s*([CTLS])?(\d{1,2}))?\b"
                        r"(?!\s*-?(?:signal|weight|hyper|hypo|sequence|image))")
_REGION_START = {"C": (0, 7), "T": (7, 12), "L": (19, 5), "S": (24, 1)}  # first index, vertebrae in the region


def _vertebra(region: str, number: str) -> int | None:
    """The vertebra's place in the spine from C1 (0) to S1 (24); None for no vertebra ("T2 signal")."""
    first, count = _REGION_START[region]
    n = int(number)
    return first + n - 1 if 1 <= n <= count else None


def spinal_levels(text: str) -> int:
    """How many levels of the spine ``text`` names: a run of vertebrae is a level for each pair of
    neighbours in it ("C5-C6" and "L4/5" are one, "T4 to T12" eight), a vertebra named alone ("L4
    laminectomy") one unless a run holds it."""
    joints, alone = set(), set()
    for m in _VERTEBRAE.finditer(text):
        a = _vertebra(m.group(1), m.group(2))
        b = _vertebra(m.group(3) or m.group(1), m.group(4)) if m.group(4) else None
        if a is None or m.group(4) and (b is None or b <= a):
            continue
        if b is None:
            alone.add(a)
        else:
            joints.update(range(a, b))
    return len(joints) + len({v for v in alone if v not in joints and v - 1 not in joints})


@dataclass(frozen=True)
class LevelsParams:
    codes: str  # the operations on the spine that take a levels code
    levels: tuple[str, ...]  # the codes for one level, two levels and more than two
    message: str

    def __post_init__(self):
        check_codes((self.codes, *self.levels), "codes")
        if len(self.levels) != 3:
            raise ValueError("levels: give the codes for one level, two levels and more than two levels")


@rule("SUP-004", "conventions", LevelsParams)
def levels_of_spine(w: Work, r: Rule) -> None:
    """An operation on the spine is followed by the code for the number of levels its statement
    names (one, two, more than two), where it names them and no levels code follows it yet."""
    p: LevelsParams = r.params
    operations, levels = code_refs(p.codes), code_refs(" ".join(p.levels))
    placed: set[int] = set()
    for s in [s for s in w.scope(r) if s.kind == "procedure" and in_refs(s.code, operations)]:
        nxt = w.at(s) + 1
        if nxt < len(w.codes) and in_refs(w.codes[nxt].code, levels):
            continue
        n = spinal_levels(" ".join(e.text for e in s.evidence if e.assertion == "present"))
        if n:
            code = p.levels[min(n, 3) - 1]
            added = w.attach(r, System.parse(s.system), code, s, s, placed)
            if added is not None:
                w.flag(r, p.message, s, codes=(s.code, code), other=code, value=n)


@rule("SUP-002", "conventions", MessageParams)
def supplementary_not_alone(w: Work, r: Rule) -> None:
    """Supplementary codes (:func:`~clincoder.core.codes.opcs4_supplementary`) with no procedure
    of the classification to qualify are not coded."""
    for system in {s.system for s in w.scope(r) if s.kind == "procedure"}:
        mine = [s for s in w.codes if s.system == system]
        if mine and all(opcs4_supplementary(s.code) for s in mine):
            for s in mine:
                w.demote(s)
                w.tag(r, s)
                w.flag(r, r.params.message, s)


@rule("CON-073", "conventions", MessageParams)
def operation_no_mention_names(w: Work, r: Rule) -> None:
    """An operation the suggester read from statements that name only looks and tests, none of
    which shares a word with its title or index terms (nor does any procedure the letter names),
    is read from other words: not coded ("E3 at colonoscopy 2022" and an "AXR ... no mucosal
    islands" name no mucosal resection of the colon). A statement that names an operation by its
    ending ("right hemicolectomy") may name it in words its title lacks, and one that names a
    single procedure is read as that procedure's (:meth:`Work.support`)."""
    # a supplementary code qualifies another: SUP-002's
    for s in [s for s in w.scope(r) if s.kind == "procedure" and not opcs4_supplementary(s.code)
              and not w.tags.get((s.system, s.code))]:  # a rule's codes are its own
        inside = w.inside(s, procedural=True)
        if inside and not w.support(s) and not any(re.search(OPERATION_WORD, word) for m in inside
                                                   for word in mention_words(m)):
            w.demote(s)
            w.tag(r, s)
            w.flag(r, r.params.message, s)


@dataclass(frozen=True)
class ConvertedParams:
    words: str  # a statement that the operation was converted to open
    operations: tuple[str, ...]  # the abdominal and pelvic operations a laparoscopy may turn into
    looks: tuple[str, ...]  # the diagnostic laparoscopy that turned into the operation
    routed: str  # an operation whose title names its own route is no open operation
    add: tuple[str, ...]  # the codes that follow the open operation, in order
    skip_sections: tuple[str, ...]  # sections that tell of other episodes
    message: str

    def __post_init__(self):
        check_codes((*self.operations, *self.looks, *self.add), "codes")
        for pattern in (self.words, self.routed):
            re.compile(pattern)


@rule("CON-079", "conventions", ConvertedParams)
def converted_to_open(w: Work, r: Rule) -> None:
    """A laparoscopic operation this episode converted to open is coded as the open operation,
    then Y71.4 and the laparoscopic approach (Y75.2); the diagnostic laparoscopy that turned into
    it is not coded."""
    p: ConvertedParams = r.params
    episode = [(x.start, x.end) for x in w.episode_sentences(p.skip_sections)]
    if not any(re.search(p.words, said, re.I) for said in w.said_of_patient(episode)):
        return
    procedures = [s for s in w.scope(r) if s.kind == "procedure"]
    operations, looks = code_refs(" ".join(p.operations)), code_refs(" ".join(p.looks))
    operation = next((s for s in procedures if in_refs(s.code, operations)
                      and not re.search(p.routed, s.title, re.I)), None)
    if operation is None:
        return
    placed: set[int] = set()
    after = operation
    for code in p.add:
        added = w.attach(r, System.parse(operation.system), code, operation, after, placed)
        if added is not None:
            after = added
            w.flag(r, p.message, added, codes=(added.code, operation.code), other=operation.code)
    for look in [s for s in procedures if in_refs(s.code, looks)]:
        w.demote(look)
        w.tag(r, look)


@dataclass(frozen=True)
class ToldDoneParams:
    # {code, words, unless?}: a procedure's code, the words with which a statement tells it done,
    # and words that make the statement another thing; the first entry a statement tells wins
    entries: tuple[dict, ...]
    skip_sections: tuple[str, ...]  # sections that tell of other episodes, or of plans
    message: str

    def __post_init__(self):
        # (check_entries validates the codes and compiles the words)
        check_entries(self.entries, "entries", {"code": str, "words": str}, {"unless": str})


@rule("CON-066", "conventions", ToldDoneParams)
def told_done(w: Work, r: Rule) -> None:
    """A procedure that a statement of this episode tells done in its own words ("a urethral
    catheter was passed on the ward") is coded, whatever the ranker made of it."""
    p: ToldDoneParams = r.params
    system = next((x for x in w.tables if x.kind == "procedure" and x in r.applies_to), None)
    if system is None:
        return
    for s in (s for s in w.episode_sentences(p.skip_sections) if s.assertion not in NOT_CODED):
        said = w.text[s.start:s.end]
        told = next(((e, found) for e in p.entries if (found := re.search(e["words"], said, re.I))
                     and not re.search(e.get("unless") or r"(?!)", said, re.I)), None)
        added = w.add(r, system, told[0]["code"], (w.told(s),)) if told is not None else None
        if added is not None:
            w.flag(r, p.message, added, mention=told[1].group(0))


@dataclass(frozen=True)
class IncludedOperationParams:
    joined: str  # where an operation's title goes on to name a further operation it includes (" and ")
    residual: str  # title words that name no operation (NEC, HFQ)
    min_words: int  # the fewest words a title names an operation by
    message: str
    # title wording that names operations in words of its own ("exteriorisation of bowel": the end
    # colostomy, H15.2) -> the codes of those operations
    parts: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        for pattern in (self.joined, self.residual, *self.parts):
            re.compile(pattern)
        check_codes(tuple(self.parts.values()), "parts")


@rule("CON-071", "conventions", IncludedOperationParams)
def included_operation(w: Work, r: Rule) -> None:
    """A suggested operation whose own title another suggested operation's title names after "and"
    ("Abdominoperineal excision of rectum and end colostomy" holds "End colostomy"), or names in
    words of its own (``parts``: "exteriorisation of bowel" is the end colostomy), is part of that
    operation, which OPCS-4 codes as one: not coded beside it."""
    p: IncludedOperationParams = r.params
    mine = [s for s in w.scope(r) if s.kind == "procedure" and not opcs4_supplementary(s.code)]
    titles = {id(s): own_title(w, s).lower() for s in mine}
    for part in mine:
        name = re.sub(p.residual, " ", titles[id(part)], flags=re.I).strip()
        named = [words for words, refs in p.parts.items() if in_refs(part.code, code_refs(refs))]
        if len(name.split()) < p.min_words and not named:
            continue
        whole = next((s for s in mine if s is not part and s.code[:3] != part.code[:3] and (
            any(name in rest for rest in re.split(p.joined, titles[id(s)])[1:])
            or any(re.search(words, titles[id(s)], re.I) for words in named))), None)
        if whole is not None:
            w.demote(part)
            w.tag(r, part)
            w.flag(r, p.message, part, codes=(part.code, whole.code), other=whole.code)


@dataclass(frozen=True)
class FixationParams:
    codes: str  # the reductions and fixations of a fracture (W19-W26)
    # {code, words}: a method of fixation as a statement names it, and the code it takes; first wins
    methods: tuple[dict, ...]
    message: str

    def __post_init__(self):
        check_codes((self.codes,), "codes")
        check_entries(self.methods, "methods", {"code": str, "words": str}, {})


@rule("CON-069", "conventions", FixationParams)
def fixation_named(w: Work, r: Rule) -> None:
    """A reduction and fixation of a fracture is coded by the method of fixation its statement names
    ("ORIF L patella - tension band wiring": W19.6, a wire system, not W20.1, the plate that "ORIF"
    alone is read as), in the place of the code read from the rest."""
    p: FixationParams = r.params
    family = code_refs(p.codes)
    for s in [s for s in w.scope(r) if s.kind == "procedure" and in_refs(s.code, family)]:
        said = " ".join(e.text for e in s.evidence if e.assertion == "present")
        method = next((e for e in p.methods if re.search(e["words"], said, re.I)), None)
        if method is None or method["code"] == s.code or s not in w.codes:
            continue
        w.replace(r, s, System.parse(s.system), method["code"])
        w.flag(r, p.message, s, codes=(s.code, method["code"]), other=method["code"])


@dataclass(frozen=True)
class RegionParams:
    codes: str  # the operations whose subdivisions come in pairs by region (the skin, chapter S)
    region: str  # the words of a title that make it the head and neck one ("of head or neck")
    head_neck: str  # a site of the head or neck as a statement names it ("cheek", "nasal ala")
    elsewhere: str  # a site of the body elsewhere ("forearm", "back")
    donor: str  # where a graft was taken from, which is not the site operated on
    message: str

    def __post_init__(self):
        check_codes((self.codes,), "codes")
        for name in ("region", "head_neck", "elsewhere", "donor"):
            re.compile(getattr(self, name))


_NEC = re.compile(r"\s+NEC$")


def region_sibling(table: CodeTable, entry: CodeEntry, region: str, head_neck: bool) -> CodeEntry | None:
    """The subdivision of ``entry``'s category that is the same operation on the head or neck
    (``head_neck``) or elsewhere ("Full thickness autograft of skin to head or neck" S36.1 and
    "... of skin NEC" S36.2); None where the category has no such pair, or ``entry`` is it."""
    def key(title: str) -> str:
        return re.sub(region, "", _NEC.sub("", title), flags=re.I).strip()

    parent = table.parent(entry.code)
    if parent is None or bool(re.search(region, entry.title, re.I)) == head_neck:
        return None
    return next((e for e in table.children(parent.code) if e.selectable and key(e.title) == key(entry.title)
                 and bool(re.search(region, e.title, re.I)) == head_neck), None)


@rule("CON-070", "conventions", RegionParams)
def region_named(w: Work, r: Rule) -> None:
    """An operation on the skin whose category tells the head or neck apart from elsewhere is coded
    by the site its statement names ("Full thickness skin graft to the left cheek": S36.1, to head
    or neck, not S36.2, NEC), the donor site left aside; a statement that names both, or neither,
    keeps the code read."""
    p: RegionParams = r.params
    family = code_refs(p.codes)
    for s in [s for s in w.scope(r) if s.kind == "procedure" and in_refs(s.code, family) and s in w.codes]:
        said = re.sub(p.donor, " ", " ".join(e.text for e in s.evidence if e.assertion == "present"), flags=re.I)
        head, other = re.search(p.head_neck, said, re.I), re.search(p.elsewhere, said, re.I)
        table, entry = w.entry(s)
        if entry is None or bool(head) == bool(other):
            continue
        better = region_sibling(table, entry, p.region, head_neck=bool(head))
        if better is not None:
            w.replace(r, s, System.parse(s.system), better.code)
            w.flag(r, p.message, s, codes=(s.code, better.code), other=f"{better.code} ({better.title})")


@dataclass(frozen=True)
class SiteTakenParams:
    codes: str  # the site codes (OPCS-4 chapter Z, laterality apart)
    # {codes, sites}: the operations whose category takes a site code, and the site codes they take
    sites: tuple[dict, ...]
    message: str

    def __post_init__(self):
        check_codes((self.codes,), "codes")
        check_entries(self.sites, "sites", {"codes": str, "sites": str}, {})
        check_codes(tuple(e["sites"] for e in self.sites), "sites")  # (check_entries checks the codes)


@rule("SUP-005", "conventions", SiteTakenParams)
def site_taken_by_an_operation(w: Work, r: Rule) -> None:
    """A site code is coded where an operation coded in the letter takes a site code of its kind,
    or where it rests on an operation's own statement whose title does not name it already; not
    one read from elsewhere (a scan, a histology report) beside operations that name their site in
    their own code."""
    p: SiteTakenParams = r.params
    procedures = [s for s in w.scope(r) if s.kind == "procedure"]
    operations = [s for s in procedures if not opcs4_supplementary(s.code)]
    # (an operation's, or a second site's supplementary code: the harvest of a graft's skin, Y58)
    taken = [code_refs(e["sites"]) for e in p.sites
             if any(in_refs(s.code, code_refs(e["codes"])) for s in procedures)]
    for s in procedures:
        if in_refs(s.code, code_refs(p.codes)) and not any(in_refs(s.code, t) for t in taken) \
                and not any(same_statement(s, o) and not _site_titled(w, s, o) for o in operations):
            w.demote(s)
            w.tag(r, s)
            w.flag(r, p.message, s)


@dataclass(frozen=True)
class DonorParams:
    grafts: tuple[str, ...]  # the skin grafts whose donor site a harvest code gives
    # the words that tell where the graft was taken from: groups ``side`` and ``site``
    donor: str
    # {words, add, site?}: the harvest code by the donor site the words name, with the site's own
    # skin code (``site``) where the harvest code does not name it; the first that applies
    harvests: tuple[dict, ...]
    other: str  # the harvest code of a donor site none names (other specified)
    sides: dict[str, str]  # side word -> laterality code
    message: str
    split: str = r"(?!)"  # a split-thickness graft's statement: its donor heals by itself, no harvest

    def __post_init__(self):
        check_codes(self.grafts, "grafts")
        check_entries(self.harvests, "harvests", {"words": str, "add": str}, {"site": str})
        check_codes(tuple(x for h in self.harvests for x in (h["add"], h.get("site", h["add"]))), "harvests")
        check_codes((self.other, *self.sides.values()), "other, sides")
        if not {"side", "site"} <= set(re.compile(self.donor).groupindex):
            raise ValueError("donor: needs the groups 'side' and 'site'")
        re.compile(self.split)


@rule("SUP-006", "conventions", DonorParams)
def donor_site(w: Work, r: Rule) -> None:
    """A skin graft whose statement tells where it was taken from ("a full-thickness skin graft
    harvested from the left postauricular skin") is followed, after its own supplementary codes,
    by the harvest of skin for the graft (Y58: post auricular Y58.1, else Y58.8 with the donor's
    skin site) and the donor site's side."""
    p: DonorParams = r.params
    placed: set[int] = set()
    for graft in [s for s in w.scope(r) if s.kind == "procedure" and in_refs(s.code, code_refs(" ".join(p.grafts)))]:
        told = next(((e, m) for e in graft.evidence if (m := re.search(p.donor, e.text, re.I))), None)
        if told is None or re.search(p.split, told[0].text, re.I):
            continue
        e, found = told
        # the words that name the donor site are the harvest's evidence
        donor = (replace(e, start=e.start + found.start(), end=e.start + found.end(), text=found.group(0)),)
        harvest = next((h for h in p.harvests if re.search(h["words"], found.group("site"), re.I)), {"add": p.other})
        side = p.sides.get((found.group("side") or _side_in(found.group("site"), p.sides) or "").lower())
        system = System.parse(graft.system)
        # the ranker's own harvest code is moved there; the donor's site and side are the harvest's own
        after = w.attach(r, system, harvest["add"], graft, _last_qualifier(w, graft), placed)
        for code in [c for c in (harvest.get("site"), side) if c and after is not None]:
            after = w.add(r, system, code, donor, after=after, repeat=True, rule_evidence=True) or after
        w.tag(r, graft)
        w.flag(r, p.message, graft, other=harvest["add"], mention=found.group(0))


def _side_in(site: str, sides: dict[str, str]) -> str | None:
    """The side word a donor site's words hold ("behind the left ear"), if any."""
    found = re.search(r"\b(" + "|".join(map(re.escape, sides)) + r")\b", site, re.I)
    return found.group(1) if found else None


def _last_qualifier(w: Work, s: CodeSuggestion) -> CodeSuggestion:
    """The last of the supplementary codes that directly follow ``s`` (``s`` itself without any)."""
    at = w.at(s)
    while at + 1 < len(w.codes) and opcs4_supplementary(w.codes[at + 1].code):
        at += 1
    return w.codes[at]


def _site_titled(w: Work, site: CodeSuggestion, operation: CodeSuggestion) -> bool:
    """Whether an operation's title names the site a site code gives ("Therapeutic endoscopic
    operations on oesophagus using rigid oesophagoscope": Z27.1, Oesophagus, tells nothing more)."""
    words = content_words(own_title(w, site))
    return bool(words) and words <= content_words(operation.title)


@dataclass(frozen=True)
class UrgencyParams:
    # {emergency, other}: the OPCS-4 categories of one operation done as an emergency and
    # otherwise, with the same fourth characters (L18 and L19)
    pairs: tuple[dict, ...]
    emergency: str  # a statement's words that make the operation an emergency ("ruptured")
    elective: str  # and those that make it planned
    message: str

    def __post_init__(self):
        check_entries(self.pairs, "pairs", {"emergency": str, "other": str}, {})
        check_codes(tuple(c for pair in self.pairs for c in pair.values()), "pairs")
        re.compile(self.emergency)
        re.compile(self.elective)


def _by_urgency(p: UrgencyParams, code: str, urgent: bool, planned: bool) -> str | None:
    """The code of the other category of ``code``'s pair that the statements say it belongs to, or None."""
    for pair in p.pairs:
        if code[:3] == pair["other"] and urgent and not planned:
            return pair["emergency"] + code[3:]
        if code[:3] == pair["emergency"] and planned and not urgent:
            return pair["other"] + code[3:]
    return None


def _said_of(w: Work, s: CodeSuggestion) -> str:
    """What the present statements of ``s`` say of the patient, denied words blanked."""
    return " ".join(w.said_of_patient([(e.start, e.end) for e in s.evidence if e.assertion == "present"]))


@rule("CON-074", "conventions", UrgencyParams)
def operation_by_urgency(w: Work, r: Rule) -> None:
    """An operation OPCS-4 divides by urgency is coded in the category its statement says: an
    emergency, or a ruptured aneurysm (its statement's or the primary diagnosis'), in the emergency
    one (L18.4, not L19.4); an elective one in the other; the fourth character kept."""
    p: UrgencyParams = r.params
    primary = next((s for s in w.codes if s.kind == "diagnosis"), None)
    condition = _said_of(w, primary) if primary is not None else ""
    for s in [s for s in w.scope(r) if s.kind == "procedure"]:
        said = _said_of(w, s)
        urgent = bool(re.search(p.emergency, f"{said} {condition}", re.I))
        target = _by_urgency(p, s.code, urgent, bool(re.search(p.elective, said, re.I)))
        if target is None:
            continue
        system = System.parse(s.system)
        w.replace(r, s, system, target)  # (one the suggester offered as well moves up to its place)
        if s not in w.codes:
            w.flag(r, p.message, s, codes=(s.code, target), other=target)


def _recoded(operations: tuple[dict, ...], code: str) -> str | None:
    """The code the first of ``operations`` ({codes, to}) that holds ``code`` gives it; None where none does."""
    return next((e["to"] for e in operations if in_refs(code, code_refs(e["codes"]))), None)


@dataclass(frozen=True)
class ReExcisionParams:
    # {codes, to}: the re-excisions of skin margins, and the excision each is where no margin is re-excised
    operations: tuple[dict, ...]
    re_excision: str  # the words that tell the margins or the scar of an earlier excision excised again
    message: str

    def __post_init__(self):
        check_entries(self.operations, "operations", {"codes": str, "to": str}, {})
        check_codes(tuple(f"{e['codes']}, {e['to']}" for e in self.operations), "operations")
        re.compile(self.re_excision)


@rule("CON-077", "conventions", ReExcisionParams)
def margins_not_re_excised(w: Work, r: Rule) -> None:
    """A re-excision of skin margins whose statement tells no earlier excision's margins or scar
    excised again ("excised with 4 mm margins" is the first excision) is the excision of the
    lesion: S06.6 is S06.5."""
    p: ReExcisionParams = r.params
    again = re.compile(p.re_excision, re.I)
    for s in [s for s in w.scope(r) if s.kind == "procedure"]:
        to = _recoded(p.operations, s.code)
        if to is not None and not again.search(_said_of(w, s)):
            w.replace(r, s, System.OPCS4, to)
            w.flag(r, p.message, s, codes=(s.code, to), other=to)


@dataclass(frozen=True)
class NoseSkinParams:
    # {codes, to}: the operations on the skin (chapter S) and the operation on the external nose
    # each is (E09), whose category includes the skin of the nose
    operations: tuple[dict, ...]
    nose: str  # the words that name the external nose ("nasal ala", "side of his nose")
    other_site: str  # the words of a skin site of the head or neck that is not the nose ("scalp", "cheek")
    elsewhere: str  # the words of a skin site off the head and neck (CON-070's)
    skin_lesions: tuple[str, ...]  # the primary diagnoses whose site is the skin's (C43-C44 ...)
    message: str

    def __post_init__(self):
        check_entries(self.operations, "operations", {"codes": str, "to": str}, {})
        check_codes(tuple(f"{e['codes']}, {e['to']}" for e in self.operations), "operations")
        check_codes(self.skin_lesions, "skin_lesions")
        re.compile(self.nose), re.compile(self.other_site), re.compile(self.elsewhere)


@rule("CON-076", "conventions", NoseSkinParams)
def skin_of_the_external_nose(w: Work, r: Rule) -> None:
    """An operation on the skin whose statement names the external nose, or that names no site
    where the primary diagnosis is a lesion of the skin of the nose, is coded to the operation on
    the external nose (E09, whose category includes its skin): "excision of the left nasal alar
    BCC" is E09.1, not S06.5."""
    p: NoseSkinParams = r.params
    nose, other = re.compile(p.nose, re.I), re.compile(f"{p.other_site}|{p.elsewhere}", re.I)
    primary = next((s for s in w.codes if s.kind == "diagnosis"), None)
    of_skin = primary is not None and in_refs(primary.code, code_refs(" ".join(p.skin_lesions)))
    lesion = _said_of(w, primary) if of_skin else ""
    for s in [s for s in w.scope(r) if s.kind == "procedure"]:
        to = _recoded(p.operations, s.code)
        said = _said_of(w, s)
        if to is not None and (nose.search(said) or (not other.search(said) and nose.search(lesion))):
            w.replace(r, s, System.OPCS4, to)
            w.flag(r, p.message, s, codes=(s.code, to), other=to)


@dataclass(frozen=True)
class NamedOperationParams:
    sections: tuple[str, ...]  # the sections whose statements tell the operations done (the procedures heading)
    min_words: int  # the fewest words of an index term that name an operation in full (else an operation word)
    message: str
    # a clause (up to a semicolon) that tells the operation only sought, offered or not needed
    # ("Thoracic surgical opinion (VATS decortication) was sought ... but not needed")
    unless: str = r"(?!)"

    def __post_init__(self):
        re.compile(self.unless)


def _coded_mentions(w: Work) -> list[Mention]:
    """The mentions of operations that a suggested operation rests on: inside its evidence, sharing
    a word with its title or index terms."""
    coded = [s for s in w.codes if s.kind == "procedure" and not opcs4_supplementary(s.code)]
    return [m for s in coded for m in w.inside(s, True) if mention_words(m) & w.words(s)]


@functools.lru_cache(maxsize=None)
def _term_pattern(term: str) -> str:
    """An index term as a statement names it, a side word allowed between its words ("drainage of
    right quinsy" is "drainage of quinsy")."""
    side = r"\s+(?:(?:" + "|".join(sorted(SIDE_WORDS)) + r")\s+)?"
    return r"(?<!\w)" + side.join(re.escape(word) for word in term.split()) + r"(?!\w)"


def _named_operation(w: Work, p: NamedOperationParams, c: CodeSuggestion, sentences: list[SentenceRecord],
                     mentions: list[Mention]) -> tuple[SentenceRecord, str, Mention] | None:
    """The sentence of ``sentences`` where one of the present ``mentions`` states one of ``c``'s
    curated index terms in full ("Stapled bullectomy of RUL apex": E54.5's "stapled bullectomy"),
    with the term and the mention; a one-word term (an operation word) only a mention that says
    nothing more than the code's title and terms ("Hysteroscopic polypectomy" is no polypectomy of
    the colon). None where none does."""
    terms = [t for t in index_terms(System.OPCS4).get(c.code, ())
             if len(t.split()) >= p.min_words or re.search(OPERATION_WORD, t, re.I)]
    if not terms:
        return None
    own = w.words(c)
    for s in sentences:
        said = w.text[s.start:s.end]
        for term in terms:
            for found in re.finditer(_term_pattern(term), said, re.I):
                a, b = s.start + found.start(), s.start + found.end()
                clause = said[said.rfind(";", 0, found.start()) + 1:(said.find(";", found.end()) + 1 or len(said))]
                if re.search(p.unless, clause, re.I):
                    continue  # the clause tells it only sought, offered or not needed
                said_by = next((m for m in mentions if m.start < b and a < m.end
                                and (" " in term or mention_words(m) <= own)), None)
                if said_by is not None:
                    return s, term, said_by
    return None


@rule("CON-072", "conventions", NamedOperationParams)
def operation_named_in_full(w: Work, r: Rule) -> None:
    """An operation the ranker offers, that a present statement under the procedures heading names
    in full by one of its curated index terms, is coded, where no code of its category is: the
    suggester, fitted on few letters of each operation, scores the rarer ones low."""
    p: NamedOperationParams = r.params
    if System.OPCS4 not in w.tables or System.OPCS4 not in r.applies_to:
        return
    sentences = [s for s in w.sentences if s.coded and s.section in p.sections and s.assertion == "present"]
    coded = _coded_mentions(w)  # what the suggested operations rest on, before any is added
    mentions = [m for m in w.mentions if m.procedural and m.assertion == "present" and m not in coded]
    if not sentences or not mentions:
        return
    named = [(c, found) for c in w.candidates if c.system == System.OPCS4.value and not opcs4_supplementary(c.code)
             and (c.system, c.code) not in w.demoted and (found := _named_operation(w, p, c, sentences, mentions))]
    # the fullest name first, and a mention names one operation: "sentinel lymph node biopsy" is
    # T91.1, not also T87.8's "lymph node biopsy"
    used: list[Mention] = []
    for c, (told, _, mention) in sorted(named, key=lambda x: -len(x[1][1])):
        if mention in used or any(s.system == c.system and s.code[:3] == c.code[:3] for s in w.codes):
            continue  # named by a fuller term already, or a code of its category is coded already
        added = w.add(r, System.OPCS4, c.code, (w.told(told),), rule_evidence=True)
        if added is not None:
            used.append(mention)
            w.flag(r, p.message, added, mention=w.text[told.start:told.end][:80])
