"""The offline, deterministic reply engine: French and English rules, no model, no I/O.

Reads a reply the way docs/domain.md §4–5 says: one primary intent by precedence, `needs_human` for
the five hand-off intents or when unsure, the promised amount and date, instalments, disputed
invoices, and evidence spans that are exact substrings of the reply text.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from . import intents as ix
from .amounts import AmountHit, find_amounts
from .analysis import (
    CONFIDENCE_THRESHOLD,
    NEEDS_HUMAN_INTENTS,
    PRECEDENCE,
    CaseContext,
    Instalment,
    Intent,
    PromiseReading,
    ReplyAnalysis,
    any_sensitive,
    first_by_precedence,
)
from .context import (
    APPOSITION,
    CONDITIONAL,
    EMAIL,
    US_HINT,
    disputed_invoices,
    is_context_amount,
    is_reference_date,
    new_contacts,
)
from .dates import FAIR, DateHit, find_dates
from .lexicon import MAILBOX_GONE
from .text import detect_language, extract_reply_text, mask_distractors, normalise, sentence_spans

_MONEY_WORD = re.compile(
    r"\b(?:pay|paie|paye|payer|paiement|payment|paid|regl|reglement|virement|vir|transfer|"
    r"cheque|check|montant|somme|solde|facture|invoice|balance|amount|funds|money|argent|"
    r"quid|euros?|dollars?|pounds?|settle|remit)\w*"
)
_BOUNCED = re.compile(
    r"\b(?:rejet\w*|refusee? par (?:la|notre|votre) banque|retournee? (?:par|impaye)\w*|"
    r"revenue? impaye\w*|bounced|rejected|(?:was|been|got) returned|reversed|failed|declined|echoue\w*)"
)
_METHOD = re.compile(
    r"\bpa(?:yer|y) (?:par|by|with|via) (?:cheque|check|carte|cb|card|credit card|virement|"
    r"prelevement|bank transfer|paypal|especes|cash)\b"
)
_ON_RECEIPT = re.compile(
    r"\b(?:des|a) reception de (?:votre|vos|la|le|les)\b|\b(?:once|when|as soon as|after) you(?:'ve)? "
    r"(?:send|sent|provide|provided|confirm|confirmed|share|shared)\b|\bsi vous (?:m'|nous )?"
    r"(?:envoyez|transmettez|communiquez|confirmez)\b|\bdes que (?:vous )?(?:nous |m')?(?:aurez|aurons)"
)
_TOTAL = re.compile(r"\s*(?:au total|en tout|in total|total)\b")


def _right_after(norm: str, claims: list[ix.Cue], cue: ix.Cue) -> bool:
    """Tell whether `cue` closely follows a claim of payment in the same clause."""
    return any(
        0 <= cue.start - c.end < 25
        and not re.search(r"[,;.]|\b(?:et|and|mais|but)\b", norm[c.end : cue.start])
        for c in claims
    )


class RulesEngine:
    """Deterministic French/English reply reader."""

    name = "rules"

    def analyse(
        self,
        message: str,
        received_at: datetime,
        case: CaseContext | None = None,
        *,
        auto_submitted: bool = False,
    ) -> ReplyAnalysis:
        """Read one reply; `received_at` is aware, in the sender's time zone."""
        day = received_at.date() if isinstance(received_at, datetime) else received_at
        offset = received_at.utcoffset() if isinstance(received_at, datetime) else None
        americas = offset is not None and -10 * 3600 <= offset.total_seconds() <= -4 * 3600
        reading = _Reading(message or "", day, case or CaseContext(), auto_submitted, americas)
        return reading.run()


class _Reading:
    def __init__(
        self, message: str, received: date, case: CaseContext, auto: bool, americas: bool = False
    ) -> None:
        self.text = extract_reply_text(message)
        self.received = received
        self.case = case
        self.auto = auto
        self.norm = normalise(self.text)
        self.masked = mask_distractors(self.norm, tuple(case.invoice_numbers))
        self.lang = detect_language(self.norm)
        self.spans = sentence_spans(self.text)
        # month/day order for English written from the Americas or with dollar amounts
        us = self.lang == "en" and (americas or bool(US_HINT.search(self.norm)))
        self.dates = [
            d for d in find_dates(self.masked, received, us) if not is_reference_date(self.norm, d)
        ]
        self.amounts = [a for a in find_amounts(self.masked) if not is_context_amount(self.norm, a)]
        self.cues = ix.find_cues(self.norm, self.spans)
        self.evidence: list[tuple[int, int]] = []
        self._by_sentence: dict[int, dict[int, list]] = {}

    # --- helpers --------------------------------------------------------------------------

    def _sent(self, pos: int) -> int:
        return ix.sentence_index(self.spans, pos)

    def _in(self, items: list, sents: set[int]) -> list:
        index = self._by_sentence.get(id(items))
        if index is None:
            index = {}
            for x in items:
                index.setdefault(self._sent(x.start), []).append(x)
            self._by_sentence[id(items)] = index
        if len(sents) == 1:
            return list(index.get(next(iter(sents)), ()))
        return sorted((x for s in sents for x in index.get(s, ())), key=lambda x: x.start)

    # --- main -----------------------------------------------------------------------------

    def run(self) -> ReplyAnalysis:
        cs = self.cues
        found: set[Intent] = set()
        implied: list[tuple[ix.Cue, DateHit]] = []

        # "cannot pay / will not pay before the 30th" → an implied promise dated the 30th
        for cue in cs.of(Intent.HARDSHIP, "c") + cs.of(Intent.DISPUTE, "r"):
            window = ix.not_before_follows(self.norm, self.spans, cue)
            if window:
                in_window = [d for d in self.dates if window[0] <= d.start < window[1]]
                if in_window:
                    implied.append((cue, in_window[0]))
                    cs.cues.remove(cue)

        ooo = self._out_of_office()
        if ooo is not None:
            return ooo

        # promises: those asked as questions are plan requests
        promises: list[tuple[ix.Cue, DateHit | None]] = []
        for cue in cs.of(Intent.PROMISE_TO_PAY):
            if ix.is_question(self.norm, self.spans, cue.sentence, cue.start):
                s, e = self.spans[cue.sentence]
                if _METHOD.search(self.norm, s, e):  # "puis-je payer par chèque ?": a question
                    found.add(Intent.REQUEST_INFO)
                    continue
                found.add(Intent.PAYMENT_PLAN_REQUEST)
                self.evidence.append(self.spans[cue.sentence])
                continue
            hit = self._date_near(cue)
            if "d" in cue.flags and (hit is None or self._sent(hit.start) != cue.sentence):
                continue
            if "p" in cue.flags and (
                hit is None
                or any(c.sentence == cue.sentence for c in cs.of(Intent.CLAIMS_PAID))
                or (
                    "h" not in cue.flags  # "pas avant le 15" needs no money word
                    and not self._speaks_of_money({cue.sentence, self._sent(hit.start)})
                )
            ):
                continue  # a weak cue ("je confirme", "promise") needs money and a date
            promises.append((cue, hit))
        for cue, hit in implied:
            promises.append((cue, hit))
        promises.sort(key=lambda ch: (ch[0].start, "h" in ch[0].flags, "p" in ch[0].flags))
        for i in ix.question_pay_sentences(self.norm, self.spans):
            if self._in(self.dates, {i}) or self._in(self.amounts, {i}):
                found.add(Intent.PAYMENT_PLAN_REQUEST)
                self.evidence.append(self.spans[i])

        plan_cues = cs.of(Intent.PAYMENT_PLAN_REQUEST)
        instalment_words = any(  # "perd de l'argent tous les mois" speaks of no payment
            ix.is_instalment_cue(self.norm, c)
            and (
                self._in(self.amounts, {c.sentence})
                or ix.has_pay_verb(self.norm, *self.spans[c.sentence])
                if self.spans
                else True
            )
            for c in plan_cues
        )
        dated = [(c, h) for c, h in promises if h is not None]
        if any("p" not in c.flags for c, _ in dated):
            dated = [(c, h) for c, h in dated if "p" not in c.flags]
        instalments = self._instalments(
            {c.sentence for c, _ in promises} | {c.sentence for c in plan_cues}
        )

        firm = [(c, h) for c, h in dated if "h" not in c.flags and h.confidence >= FAIR]
        priced = [i for i in instalments if i.amount is not None]
        if firm or len(priced) >= 2 or instalment_words:
            cs.drop(Intent.HARDSHIP)  # a firm date or a plan: not hardship (docs/domain.md §4–5)
        if promises and len([i for i in instalments if i.amount is not None]) >= 3:
            promises = []  # a schedule of three parts or more is a plan proposal
            found.add(Intent.PAYMENT_PLAN_REQUEST)
        for cue in cs.of(Intent.CLAIMS_PAID):  # "le virement a été effectué mais rejeté"
            s, e = self.spans[cue.sentence] if self.spans else (0, len(self.norm))
            if _BOUNCED.search(self.norm, cue.end, e):
                cs.cues.remove(cue)
        if cs.has(Intent.CLAIMS_PAID):
            cs.drop(Intent.DISPUTE, "w")
            # "la facture a été payée en deux fois : …": how it was paid, not a plan
            claims = cs.of(Intent.CLAIMS_PAID)
            cs.cues = [
                c
                for c in cs.cues
                if not (
                    c.intent is Intent.PAYMENT_PLAN_REQUEST and _right_after(self.norm, claims, c)
                )
            ]
            # "the transfer left on the 20th, it should reach you today": arrival, not a promise
            promises = [(c, h) for c, h in promises if "k" not in c.flags]
            dated = [(c, h) for c, h in dated if "k" not in c.flags]
        if promises and not dated:
            if cs.has(Intent.REQUEST_INFO) or plan_cues:
                promises = []
        if promises and cs.has(Intent.REQUEST_INFO) and self._on_receipt(promises):
            promises = []  # "once you send the bank details we'll pay": the request comes first
        if (
            promises
            and cs.has(Intent.REQUEST_INFO)
            and all("h" in c.flags or h is None or h.confidence < FAIR for c, h in promises)
        ):
            promises = []  # "send your sort code, we want to pay today": the request comes first
        if promises and any("o" in c.flags for c in plan_cues):
            promises = []  # "500 € now and 500 € next month, if that works?": an offer
            found.add(Intent.PAYMENT_PLAN_REQUEST)
        if promises and instalment_words:
            promises = []  # instalment wording: a plan, even with firm dates
            found.add(Intent.PAYMENT_PLAN_REQUEST)

        for cue in cs.cues:
            if cue.intent is not Intent.PROMISE_TO_PAY and cue.intent is not Intent.OUT_OF_OFFICE:
                found.add(cue.intent)
        if promises:
            found.add(Intent.PROMISE_TO_PAY)
        found.discard(Intent.OTHER)
        intent = first_by_precedence(found)

        promise = None
        confidence = 0.85
        if intent is Intent.PROMISE_TO_PAY:
            promise, confidence = self._promise(promises, dated, implied, instalments)
        elif intent is Intent.OTHER:
            # a short acknowledgement is understood; a long text with only "merci" is not
            short = len(self.text) < 220
            confidence = 0.75 if cs.has(Intent.OTHER) and short else 0.4
            self.evidence.extend(self.spans[c.sentence] for c in cs.of(Intent.OTHER)[:1])
        else:
            strong = cs.of(intent)
            confidence = 0.9 if len(strong) > 1 else 0.85
            if intent is Intent.DISPUTE and all("w" in c.flags for c in strong):
                confidence = 0.6
            for c in strong[:2]:
                self.evidence.append(self.spans[c.sentence])
        if cs.injection:  # instruction-like text: classified by what it says, but a human looks
            confidence = min(confidence, 0.45)
        if promise is None and (promises or implied):
            # a promise inside a dispute, a legal reply or a plan is still read for the officer
            kept = list(self.evidence)
            pool: list[tuple[ix.Cue, DateHit | None]] = [*(promises or implied)]
            promise, _ = self._promise(pool, dated, implied, instalments)
            self.evidence = kept

        return self._result(
            intent,
            confidence,
            promise=promise,
            instalments=instalments
            if intent in (Intent.PROMISE_TO_PAY, Intent.PAYMENT_PLAN_REQUEST)
            else [],
            disputed=self._disputed() if intent is Intent.DISPUTE else [],
            found=found,
            new_contact=self._email() if intent is Intent.WRONG_CONTACT else None,
            schedule=instalments,
        )

    # --- out of office --------------------------------------------------------------------

    def _out_of_office(self) -> ReplyAnalysis | None:
        cs = self.cues
        auto = self.auto or bool(cs.of(Intent.OUT_OF_OFFICE, "a"))
        absence = cs.of(Intent.OUT_OF_OFFICE, "b")
        back = cs.of(Intent.OUT_OF_OFFICE, "t")
        if not (auto or (absence and back)):
            return None
        if auto and MAILBOX_GONE.search(self.norm) and cs.of(Intent.WRONG_CONTACT):
            return None  # "X has left, this mailbox is not read, write to Y": no absence
        human = {Intent.INSOLVENCY} if auto else set(PRECEDENCE[:7]) - {Intent.HARDSHIP}
        others = {  # "I'll deal with this when I'm back": a weak promise cue is no content
            c.intent
            for c in cs.cues
            if c.intent in human and not (c.intent is Intent.PROMISE_TO_PAY and "p" in c.flags)
        }
        others |= {
            c.intent
            for c in cs.of(Intent.HARDSHIP)
            if not auto and not ix.is_illness_cue(self.norm, c)
        }
        if others:  # a human wrote about more than an absence (or an automatic insolvency notice)
            return None
        marker = (auto and cs.of(Intent.OUT_OF_OFFICE, "a")) or absence or back
        for c in marker[:1]:
            self.evidence.append(self.spans[c.sentence])
        ret = None
        after = [d for d in self.dates if back and d.start >= back[0].start] or self.dates
        if after:
            ret = after[0].date
            self.evidence.append((after[0].start, after[0].end))
        conf = 0.9 if auto else 0.75
        return self._result(Intent.OUT_OF_OFFICE, conf, return_date=ret)

    # --- promise --------------------------------------------------------------------------

    def _date_near(self, cue: ix.Cue) -> DateHit | None:
        same = self._in(self.dates, {cue.sentence})
        if same:
            after = [d for d in same if d.start >= cue.start] or same
            for nxt in after[1:]:  # "à 45 jours fin de mois, soit le 31 décembre"
                if APPOSITION.search(self.norm[max(0, nxt.start - 14) : nxt.start]):
                    return nxt
            return after[0]
        s, e = self.spans[cue.sentence] if self.spans else (0, len(self.norm))
        if CONDITIONAL.search(self.norm, s, e):  # "dès encaissement": no date borrowed
            return None
        near = self._in(self.dates, {cue.sentence + 1, cue.sentence - 1})
        return near[0] if near else None

    def _amount_near(self, cue: ix.Cue, hit: DateHit | None) -> AmountHit | None:
        sents = {cue.sentence} | ({self._sent(hit.start)} if hit else set())
        paid = [(c.start, c.end) for c in self.cues.of(Intent.CLAIMS_PAID)]
        cands = [  # "Virement de 500 € effectué ce jour, le solde suivra le 15": 500 is paid
            a for a in self._in(self.amounts, sents) if not any(s <= a.start < e for s, e in paid)
        ]
        if not cands:
            # "Nous réglerons mardi. Le montant de 600 € sera viré..." / "...d'un montant de
            # 2 300 €. Celle-ci sera réglée sous 8 jours." (never from a question)
            for other in (max(sents) + 1, min(sents) - 1):
                cands = self._in(self.amounts, {other})
                if not cands or self._has_intent_cue(other, {Intent.PROMISE_TO_PAY}):
                    continue
                s, e = self.spans[other]
                if "?" not in self.norm[s : e + 2]:
                    return cands[0]
            return None
        after = [a for a in cands if a.start >= cue.start] or cands
        for nxt in after[1:]:  # "les 2 factures (450 € et 780 €), soit 1 230 € au total"
            if APPOSITION.search(self.norm[max(0, nxt.start - 14) : nxt.start]) or _TOTAL.match(
                self.norm[nxt.end : nxt.end + 15]
            ):
                return nxt
        return after[0]

    def _currency(self, hit: AmountHit) -> str | None:
        if hit.currency:
            return hit.currency
        if self.case.currency:
            return self.case.currency
        known = [a.currency for a in self.amounts if a.currency]
        if known:
            return known[0]
        return "EUR" if self.lang == "fr" else None

    def _promise(
        self,
        promises: list[tuple[ix.Cue, DateHit | None]],
        dated: list[tuple[ix.Cue, DateHit]],
        implied: list[tuple[ix.Cue, DateHit]],
        instalments: list[Instalment],
    ) -> tuple[PromiseReading, float]:
        cue, hit = (dated or promises)[0]
        amount = self._amount_near(cue, hit)
        self.evidence.append(self.spans[cue.sentence])
        if hit is not None:
            self.evidence.append((hit.start, hit.end))
        if amount is not None:
            self.evidence.append((amount.start, amount.end))
        if hit is None:
            conf = 0.45
        elif hit.confidence >= 0.9:
            conf = 0.9
        elif hit.confidence >= FAIR:
            conf = 0.7
        else:
            conf = 0.4
        if "h" in cue.flags:
            conf = min(conf, 0.55)
        if any(c is cue for c, _ in implied):
            conf = min(conf, 0.6)
        reading = PromiseReading(
            amount=amount.value if amount else None,
            currency=self._currency(amount) if amount else None,
            date=hit.date if hit else None,
        )
        return reading, conf

    def _instalments(self, sents: set[int]) -> list[Instalment]:
        if not sents:
            return []
        # list lines that follow a plan/promise sentence belong to it
        extended = set(sents)
        for i in sorted(sents):
            j = i + 1
            while j < len(self.spans) and (
                self._in(self.dates, {j}) or self._in(self.amounts, {j})
            ):
                if self._has_intent_cue(j):
                    break
                extended.add(j)
                j += 1
        claims = self.cues.of(Intent.CLAIMS_PAID)
        dates = [d for d in self._in(self.dates, extended) if not self._after_claim(d, claims)]
        unique: dict[date, Any] = {}  # "Monday 21st" read twice is one day
        for d in dates:
            unique.setdefault(d.date, d)
        dates = list(unique.values())
        if len(dates) < 2:
            return []
        amounts = self._in(self.amounts, extended)
        shared = None
        if len(amounts) == 1 and any(
            ix.is_instalment_cue(self.norm, c) for c in self.cues.of(Intent.PAYMENT_PLAN_REQUEST)
        ):
            shared = amounts[0]  # "3 versements de 400 €", "£200 per month"
        out = []
        for d in dates:
            best = None
            for a in amounts:
                if self._sent(a.start) != self._sent(d.start):
                    continue
                gap = abs(a.start - d.start)
                segment = self.norm[min(a.end, d.end) : max(a.start, d.start)]
                if re.search(r"\b(?:et|puis|and|then)\b|[;,]", segment):
                    gap += 1000
                if best is None or gap < best[0]:
                    best = (gap, a)
            chosen = best[1] if best and best[0] < 1000 else shared
            out.append(
                Instalment(
                    amount=chosen.value if chosen else None,
                    currency=self._currency(chosen) if chosen else None,
                    date=d.date,
                )
            )
        return out

    def _on_receipt(self, promises: list[tuple[ix.Cue, DateHit | None]]) -> bool:
        for cue, _ in promises:
            s, e = self.spans[cue.sentence] if self.spans else (0, len(self.norm))
            if _ON_RECEIPT.search(self.norm, s, e):
                return True
        return False

    def _speaks_of_money(self, sents: set[int]) -> bool:
        if self._in(self.amounts, sents):
            return True
        return any(_MONEY_WORD.search(self.norm, *self.spans[i]) for i in sents if self.spans)

    def _after_claim(self, hit: DateHit, claims: list[ix.Cue]) -> bool:
        for c in claims:
            between = self.norm[c.end : hit.start]
            if 0 <= hit.start - c.end < 40 and not re.search(
                r"[,;.]|\b(?:et|and|mais|but)\b", between
            ):
                return True
        return False

    def _has_intent_cue(self, sent: int, also_ok: set[Intent] | None = None) -> bool:
        ok = {Intent.OTHER, Intent.PAYMENT_PLAN_REQUEST} | (also_ok or set())
        return any(c.sentence == sent and c.intent not in ok for c in self.cues.cues)

    # --- other extractions ----------------------------------------------------------------

    def _disputed(self) -> list[str]:
        starts = [c.start for c in self.cues.of(Intent.DISPUTE)]
        return disputed_invoices(self.text, self.norm, self.spans, starts, self.case)

    def _email(self) -> str | None:
        m = EMAIL.search(self.text)
        return m.group(0) if m else None

    def _result(
        self,
        intent: Intent,
        confidence: float,
        *,
        promise: PromiseReading | None = None,
        instalments: list[Instalment] | None = None,
        disputed: list[str] | None = None,
        found: set[Intent] | None = None,
        new_contact: str | None = None,
        return_date: date | None = None,
        schedule: list[Instalment] | None = None,
    ) -> ReplyAnalysis:
        evidence: list[str] = []
        for s, e in self.evidence:
            piece = self.text[s:e].strip()
            if piece and piece not in evidence and not any(piece in x for x in evidence):
                evidence.append(piece)
        confidence = max(0.0, min(1.0, confidence))
        also = [i for i in PRECEDENCE if i in (found or set()) and i not in (intent, Intent.OTHER)]
        return ReplyAnalysis(
            intent=intent,
            needs_human=intent in NEEDS_HUMAN_INTENTS
            or confidence < CONFIDENCE_THRESHOLD
            or any_sensitive(also),
            promise=promise,
            instalments=instalments or [],
            disputed_invoices=disputed or [],
            language="en" if self.lang == "en" else "fr",
            reply_text=self.text,
            confidence=round(confidence, 3),
            evidence=evidence,
            engine="rules",
            intents_found=[i for i in PRECEDENCE if i in (found or {intent})],
            return_date=return_date,
            new_contact_email=new_contact,
            schedule=list(schedule) if schedule and len(schedule) >= 2 else None,
            suspicious=self.cues.injection,
            loose_promise=None if intent is Intent.OUT_OF_OFFICE else self._loose_promise(),
            new_contacts=new_contacts(self.text),
            also=also,
        )

    def _loose_promise(self) -> PromiseReading | None:
        """Read the first firm date and the amount beside it, whatever the cues said."""
        firm = [d for d in self.dates if d.confidence >= FAIR] or self.dates
        if not firm:
            return None
        hit = firm[0]
        sent = self._sent(hit.start)
        paid = [(c.start, c.end) for c in self.cues.of(Intent.CLAIMS_PAID)]
        near = [
            a
            for a in self._in(self.amounts, {sent, sent - 1, sent + 1})
            if not any(s <= a.start < e for s, e in paid)
        ]
        near.sort(key=lambda a: (self._sent(a.start) != sent, abs(a.start - hit.start)))
        amount = near[0] if near else None
        return PromiseReading(
            amount=amount.value if amount else None,
            currency=self._currency(amount) if amount else None,
            date=hit.date,
        )
