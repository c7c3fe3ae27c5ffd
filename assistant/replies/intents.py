"""Find intent cues in a reply and settle the primary intent by docs/domain.md §4–5 precedence.

Cues come from `lexicon.LEXICON`; this module filters them (negation, future tense, questions)
and applies the combination rules that the contract implies:
- hardship applies only "without a firm date or plan": a dated promise or a stated plan wins;
- "I cannot pay before the 30th" is a promise dated the 30th (implied date, lower confidence);
- a promise asked as a question ("can we pay on the 15th?") is a payment plan request;
- a promise with no time at all next to a request for documents is a request for information;
- "we owe nothing" yields to a claim of payment; instalment wording beats a dated promise;
- an automatic absence reply is out_of_office whatever else it says (except insolvency).
Pure functions over strings.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from .analysis import Intent
from .lexicon import INJECTION, LEXICON
from .prefilter import could_match, required_literals

_BIG = 1 << 62
_COMPILED = [
    (intent, flags, re.compile(p, re.MULTILINE), required_literals(p))
    for intent, flags, p in LEXICON
]
_INJECTION = re.compile(INJECTION)

_NEGATION = re.compile(
    r"(?:\bne\b|\bn'|\bpas\b|\bjamais\b|\baucune?\b|\bnullement\b|\bnot\b|\bno\b|\bnever\b|"
    r"n't\b|\bcannot\b|\bdont\b|\bdidnt\b|\bhavent\b|\bwont\b|\bcant\b|\bnor\b|\bwithout\b)"
)
_NEG_IDIOMS = re.compile(
    r"\bpas (?:de|d'un) (?:souci|soucis|probleme|problemes|doute)\b|\bno (?:problem|worries|doubt)\b|"
    r"\bsans (?:faute|probleme|doute|souci)\b|\bnot only\b|\bpas mal\b|\bn'hesitez pas\b|"
    r"\bdon't hesitate\b|\bne manquerai pas\b|\bne manquerons pas\b|\bno later than\b|"
    r"\bpas plus tard que\b|\bnot later than\b|\bau plus tard\b"
)
_FUTURE_BEFORE = re.compile(
    r"(?:\bbe|\bsera|\bseront|\bserez|\bserons|\bserai|\betre|\bwill|'ll|\bvais|\ballons|\bva|\bto|\bgoing to|\bdevrait|"
    r"\bdevraient|\bshould|\bpour)\s+(?:\w+\s+)?$"
)
_FUTURE_INSIDE = re.compile(r"\b(?:sera|seront|will be|va etre|vont etre|'ll be|to be)\b")
_THIRD_PARTY = re.compile(
    r"\b(?:d'un|de notre|de nos|d'un de nos|of (?:a|our|one of our)|notre|our|un|a|nos|major|key|main|biggest|largest|mon|my|de mon|d'un de mes|mes)"
    r" (?:principal |gros |plus gros |important )?(?:clients?|customers?|fournisseurs?|suppliers?)\b"
)
_DETAILS = re.compile(
    r"\b(?:iban|rib|bic|swift|sort code|bank details|coordonnees|adresse|address|reference|"
    r"numero|number|form|formulaire|lien|link|dossier fournisseur|vendor (?:form|setup))\b"
)
_AVOID = re.compile(
    r"\b(?:eviter|avoid(?:ing)?|rather not|pas besoin|no need|inutile|sans (?:passer par|aller|recourir)|"
    r"ne (?:veux|voulons|souhaite|souhaitons) pas (?:en )?(?:arriver|aller|passer|recourir)|"
    r"(?:don't|do not) (?:want|wish) to (?:go|get|involve|end up)|no intention of (?:involving|going))\b"
)
_BACK_REFERENCE = re.compile(r"\W*(?:celui|celle|il|elle|it|this|that|the one)\b")
_NOT_YET = re.compile(
    r"\b(?:n'a pas|n'ont pas|pas encore|not yet|hasn't|haven't|has not|have not)\b"
)
_STAFF = re.compile(
    r"\b(?:comptable|accountant|bookkeeper|collegue|colleague|assistante?|secretaire|secretary|"
    r"responsable (?:compta\w*|administratif|administrative|financier|financiere)|"
    r"finance (?:manager|director)|(?:ap|accounts) (?:clerk|manager)|la personne (?:qui|en charge))\b"
)
_AUXILIARY_BEFORE = re.compile(
    r"\b(?:ai|as|a|avons|avez|ont|avais|avait|avions|aviez|avaient|est|sont|etait|ete|deja)\s+"
    r"(?:\w+\s+)?$"
)
_QUESTION_START = re.compile(
    r"\b(?:on peut|je peux|nous pouvons|pouvons|pourrions|puis|pourrais|pouvez|pourriez|est-ce|est-il|serait-il|serait il|"
    r"est il|peut-on|peut on|accepteriez|accepterez|acceptez|auriez|seriez|envisageable|"
    r"can|could|would|may|might|is it|would it|will you|are you|do you|shall|ok if|okay if|"
    r"possible)\b"
)
_PAY_VERB = re.compile(
    r"\b(?:pay|paid|paying|settle|settling|payer|paye|regler|reglions|regle|payions|verser|virer|"
    r"solder|paiement|reglement|virement|payment|transfer)\w*\b"
)
_NOT_BEFORE = re.compile(
    r"\b(?:avant|before|until|till|jusqu'|pas avant|not before|not until|only (?:on|at|after)|"
    r"qu'a partir|qu'au|que le|qu'a la|only at|only from|a partir)\b"
)
_INSTALMENT_WORDS = re.compile(
    r"echean|echelon|etal|fois|mensualit|versements|tranches|instal|split|per month|each month|"
    r"every month|monthly|weekly|partial|part|plan|schedule|spread|arrangement|par mois|month|"
    r"mois|semaine|week|coup|une fois|one go|at once|lump|cheques|checks|virements|prelevements|versements|paiements|"
    r"chaque mois|tous les mois|plusieurs|parts|payments"
)
_ILLNESS = re.compile(
    r"maladie|malade|hospital|hopital|cancer|chimio|ill|sick|medical|deces|decede|deuil|funeral"
)


@dataclass(frozen=True)
class Cue:
    """One cue of an intent found in the normalised reply."""

    intent: Intent
    start: int
    end: int
    flags: str
    sentence: int


@dataclass
class CueSet:
    """Cues grouped by intent, after filtering."""

    cues: list[Cue] = field(default_factory=list)
    injection: bool = False

    def of(self, intent: Intent, flag: str | None = None) -> list[Cue]:
        """Return the cues of one intent (optionally those carrying a flag)."""
        return [c for c in self.cues if c.intent is intent and (flag is None or flag in c.flags)]

    def has(self, intent: Intent) -> bool:
        """Tell whether any cue of the intent was found."""
        return any(c.intent is intent for c in self.cues)

    def drop(self, intent: Intent, flag: str | None = None) -> None:
        """Remove the cues of an intent (optionally only those carrying a flag)."""
        self.cues = [
            c for c in self.cues if not (c.intent is intent and (flag is None or flag in c.flags))
        ]


def sentence_index(spans: list[tuple[int, int]], pos: int) -> int:
    """Return the index of the sentence holding `pos` (the previous one between sentences)."""
    i = bisect_right(spans, (pos, _BIG)) - 1
    return min(max(i, 0), max(len(spans) - 1, 0))


def _clause_prefix(norm: str, spans: list[tuple[int, int]], sent: int, pos: int) -> str:
    start = spans[sent][0] if spans else 0
    prefix = norm[max(start, pos - 28) : pos]
    cut = max(
        prefix.rfind(","),
        prefix.rfind(":"),
        prefix.rfind(" mais "),
        prefix.rfind(" but "),
        prefix.rfind(" et "),
        prefix.rfind(" and "),
        prefix.rfind(" - "),
        prefix.rfind(";"),
    )
    if cut >= 0:
        prefix = prefix[cut + 1 :]
    return _NEG_IDIOMS.sub(" ", prefix)


def is_question(norm: str, spans: list[tuple[int, int]], sent: int, pos: int) -> bool:
    """Tell whether the cue at `pos` sits in a question asked before it in its sentence."""
    if not spans:
        return False
    s, e = spans[sent]
    text = norm[s:e]
    tail = norm[e : e + 3]
    if "?" not in text and "?" not in tail:
        return False
    return bool(_QUESTION_START.search(norm[s:pos])) or pos - s < 4


_NOT_COLLECTIVE = re.compile(
    r"\bsolvent\b|\bsolvable\b|members' voluntary|\bmvl\b|declaration of solvency|"
    r"\bmandat ad hoc\b|\bconciliat(?:ion|eur)\b|\bprocedure amiable\b"
)
_COLLECTIVE = re.compile(
    r"\b(?:redressement|liquidation) judiciaire\b|\bsauvegarde\b|\bmandataire judiciaire\b|"
    r"\binsolven\w*|\bbankrupt\w*|\bchapter (?:7|11)\b|creditors' voluntary|\bcvl\b|"
    r"\bin administration\b|\badministrators?\b|\bcessation des paiements\b|\bdepot de bilan\b"
)


def find_cues(norm: str, spans: list[tuple[int, int]]) -> CueSet:
    """Find every intent cue, dropping negated ones and claims in the future tense."""
    out = CueSet(injection=bool(_INJECTION.search(norm)))
    # court words of an amicable or solvent procedure (conciliation, mandat ad hoc, members'
    # voluntary liquidation) are no collective proceedings
    amicable = bool(_NOT_COLLECTIVE.search(norm)) and not _COLLECTIVE.search(norm)
    for intent, flags, rx, need in _COMPILED:
        if not could_match(need, norm):
            continue  # none of the words this pattern needs is in the text
        for m in rx.finditer(norm):
            sent = sentence_index(spans, m.start())
            if amicable and intent is Intent.INSOLVENCY:
                continue
            if "n" in flags and _NEGATION.search(_clause_prefix(norm, spans, sent, m.start())):
                continue
            if "f" in flags and _NOT_YET.search(m.group(0)):
                continue  # "le règlement n'a pas encore été effectué": no claim of payment
            if "f" in flags and (
                _FUTURE_BEFORE.search(norm[max(0, m.start() - 22) : m.start()])
                or _FUTURE_INSIDE.search(m.group(0))
            ):
                continue
            if "x" in flags and _THIRD_PARTY.search(
                norm[max(0, m.start() - 40) : min(len(norm), m.end() + 40)]
            ):
                continue  # "la faillite d'un client": the debtor's customer, not the debtor
            if "b" in flags and _about_details(norm, spans, sent, m.start()):
                continue  # "l'IBAN indiqué est incomplet": a request for details, no dispute
            if intent is Intent.LEGAL and _AVOID.search(
                norm[max(spans[sent][0] if spans else 0, m.start() - 45) : m.start()]
            ):
                continue  # "je ne veux pas en arriver au tribunal": avoiding it, no threat
            if "s" in flags and _STAFF.search(
                norm[max(spans[sent][0] if spans else 0, m.start() - 40) : m.start()]
            ):
                continue  # "le comptable est malade": a member of staff, not the debtor
            if "v" in flags and _AUXILIARY_BEFORE.search(norm[max(0, m.start() - 22) : m.start()]):
                continue  # "nous avons vire" is a past payment, not "nous virons"
            out.cues.append(Cue(intent, m.start(), m.end(), flags, sent))
    redirects = {c.sentence for c in out.cues if "R" in c.flags}
    if redirects:  # "please send the invoices to ap@… instead": a redirection, not a request
        out.cues = [
            c for c in out.cues if not (c.intent is Intent.REQUEST_INFO and c.sentence in redirects)
        ]
    return out


def _about_details(norm: str, spans: list[tuple[int, int]], sent: int, pos: int) -> bool:
    """Tell whether the clause before `pos` (or the sentence it refers back to) is about details."""
    start = spans[sent][0] if spans else 0
    if _DETAILS.search(norm, start, pos):
        return True
    if sent and spans and _BACK_REFERENCE.match(norm, start, pos):
        return bool(_DETAILS.search(norm, spans[sent - 1][0], spans[sent - 1][1]))
    return False


def question_pay_sentences(norm: str, spans: list[tuple[int, int]]) -> list[int]:
    """Return the sentences asking whether paying later/partly is acceptable."""
    found = []
    for i, (s, e) in enumerate(spans):
        text = norm[s:e]
        if "?" not in text and "?" not in norm[e : e + 3]:
            continue
        q = _QUESTION_START.search(text)
        if q and _PAY_VERB.search(text, q.end()):
            found.append(i)
    return found


def is_instalment_cue(norm: str, cue: Cue) -> bool:
    """Tell whether a plan cue speaks of instalments (rather than just more time)."""
    return bool(_INSTALMENT_WORDS.search(norm[cue.start : cue.end]))


def has_pay_verb(norm: str, start: int, end: int) -> bool:
    """Tell whether norm[start:end] speaks of paying."""
    return bool(_PAY_VERB.search(norm, start, end))


def is_illness_cue(norm: str, cue: Cue) -> bool:
    """Tell whether a hardship cue is about illness or death (absence notices use them)."""
    return bool(_ILLNESS.search(norm[cue.start : cue.end]))


def not_before_follows(norm: str, spans: list[tuple[int, int]], cue: Cue) -> tuple[int, int] | None:
    """Return the span after "avant / until" following a cannot-pay cue, if any."""
    end = spans[cue.sentence][1] if spans else len(norm)
    m = _NOT_BEFORE.search(norm, cue.end, min(end, cue.end + 40))
    return (m.start(), end) if m else None
