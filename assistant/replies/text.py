"""Text helpers for reply reading: normalisation, reply extraction, distractor masking.

`normalise` keeps the length of the text, so a span found in the normalised text is the same
span of the original one (evidence must be exact substrings). No I/O here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CHAR_MAP = {
    "\u2019": "'",
    "\u2018": "'",
    "\u00b4": "'",
    "`": "'",
    "\u02bc": "'",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u2007": " ",
    "\t": " ",
    "\u2013": "-",
    "\u2014": "-",
    "\u2011": "-",
    "\u201c": '"',
    "\u201d": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u0153": "o",
    "\u0152": "o",
    "\u00e6": "a",
    "\u00c6": "a",
    "\u00df": "s",
}


@lru_cache(maxsize=4096)
def _norm_char(ch: str) -> str:
    mapped = _CHAR_MAP.get(ch)
    if mapped is not None:
        return mapped
    base = unicodedata.normalize("NFD", ch)[0].lower()
    return base[0] if base else ch


def normalise(text: str) -> str:
    """Lowercase and strip accents, keeping one character per character."""
    if text.isascii():
        return text.lower().replace("\t", " ").replace("`", "'")
    return "".join(_norm_char(ch) for ch in text)


# --- reply extraction ------------------------------------------------------------------------

_QUOTE_HEADER = re.compile(
    r"^\s*(?:"
    r"(?:le|on)\b.{0,160}?(?:a\s+[ée]crit|wrote)\s*:?\s*$"
    r"|-{2,}\s*(?:message d'origine|original message|message transf[ée]r[ée]|forwarded message)"
    r"|(?:de|from)\s*:\s*.+$"
    r"|_{8,}\s*$"
    r")",
    re.IGNORECASE | re.MULTILINE,
)


def _fallback_extract(text: str) -> str:
    """Cut quoted history: the first reply header and every `>` line (tiny local fallback)."""
    match = _QUOTE_HEADER.search(text)
    if match:
        text = text[: match.start()]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


def extract_reply_text(message: str) -> str:
    """Return the new part of a reply: quoted history and signature removed."""
    try:
        from assistant.mailparse.reply_text import extract_reply
    except ImportError:  # the shared extractor is not there: use the local fallback
        extracted = _fallback_extract(message)
    else:
        extracted = extract_reply(message)
    return strip_signature(extracted).strip()


_SIGNOFF = re.compile(
    r"^[ \t]*(?:--[ \t]*|__+|"
    r"(?:bien |tres |tr[eè]s |tres bien |bien a |bien à )?cordialement|cdlt|slts|"
    r"bien [àa] (?:vous|toi)|bonne (?:journ[ée]e|soir[ée]e|fin de journ[ée]e)|"
    r"(?:sinc[èe]res |meilleures |mes )?salutations(?: distingu[ée]es)?|amicalement|"
    r"respectueusement|merci d'avance|merci par avance|(?:many )?thanks(?: in advance)?,|"
    r"(?:best|kind|warm|warmest)(?: regards| wishes)?|regards|thanks(?: and| &) regards|"
    r"cheers|sincerely|yours(?: sincerely| faithfully| truly)?|respectfully|"
    r"envoy[ée] (?:de|depuis) (?:mon|un) .{0,30}|sent from (?:my|a) .{0,30}|get outlook for .{0,20}"
    r")[ \t]*[,.!]*[ \t]*(?-i:[A-Z][\w.'-]*(?:[ \t]+[A-Z][\w.'-]*){0,3})?[ \t]*$"
    r"|^[ \t]*(?:veuillez|je vous prie d'|nous vous prions d')agr[ée]er.{0,200}$",
    re.IGNORECASE | re.MULTILINE,
)


def strip_signature(text: str) -> str:
    """Remove the closing formula and everything after it (signature block)."""
    for match in _SIGNOFF.finditer(text):
        if text[: match.start()].strip():  # never strip the whole message
            return text[: match.start()].rstrip()
    return text


# --- distractor masking ----------------------------------------------------------------------

_FOOTER_LINE = re.compile(
    r"^[ \t]*(?:t[ée]l|tel|t[ée]l[ée]phone|phone|mobile|portable|mob|fax|standard|ligne directe|"
    r"direct|office|cell|[tmfp])\b[ \t]*\.?[ \t]*:?[ \t]*[+(0-9].*$"
    r"|^.*\b(?:siret|siren|rcs|r\.c\.s|capital social|au capital|tva intra|n° tva|ape|naf|"
    r"vat (?:no|number|reg)|company (?:no|number|reg)|registered (?:office|in|number)|"
    r"iban|bic|swift)\b.*$",
    re.IGNORECASE | re.MULTILINE,
)

_NOT_MONEY = (
    r"(?![ \t]*(?:€|eur\b|euros?\b|\$|£|usd\b|gbp\b|chf\b|k\b|ke\b|[.,]\d|dollars?\b|pounds?\b))"
)
_INVOICE_NO = r"(?:[a-z]{1,5}[-/]?)?\d[\da-z]*(?:[-/.]\d[\da-z]*)*"
_NO_MARK = r"(?:(?:n[°o]\.?|nº|num(?:ero|ber)?\.?|#|ref\.?)[ \t]*:?[ \t]*|:[ \t]*)?"

_DISTRACTORS = re.compile(
    r"(?:\+\d{1,3}[ .-]?(?:\(0\))?[ .-]?\d(?:[ .-]?\d{1,4}){3,6})"  # international phone
    r"|(?<![\d,.])0\d(?:[ .-]?\d{2}){4}(?![\d,])"  # French phone
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]?\d{4}|(?<![\d,.$£€])\d{3}[.-]\d{3}[.-]\d{4}(?!\d)"  # US phone
    r"|\b[a-z]{2}\d{2}(?:[ ]?[a-z0-9]{4}){3,7}(?:[ ]?[a-z0-9]{1,3})?\b"  # IBAN
    r"|(?:https?://|www\.)\S{1,200}|(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,4}"  # URLs and e-mail addresses
    r"|\b(?:siret|siren|rcs|tva|vat|sort code|account (?:no|number)|ref(?:erence)?|commande|"
    r"order|po|p\.o\.|bon de commande|dossier|client|customer|case|ticket)\b[ \t]*"
    + _NO_MARK
    + r"(?:[a-z]{1,5}[-/]?)?\d[\d \-/a-z]{0,24}\d"
    + _NOT_MONEY
    + r"|\b(?:factures?|fact\.?|fac|invoices?|inv\.?|avoirs?|credit notes?|bl)\b[ \t]*"
    + _NO_MARK
    + _INVOICE_NO
    + _NOT_MONEY
    + r"(?:(?:,| et| and|/| &| ou| or) ?(?:n[°o] ?)?"
    + _INVOICE_NO
    + _NOT_MONEY
    + r")*"
    r"|\b[a-z]{1,5}-?\d{2,}(?:[-/]\d+)+\b|\b(?:inv|fa|f|fac|fct)-?\d{3,}\b"  # F-2026-0042
    r"|\b\d{1,2}[h:]\d{2}\b|(?<!sous )(?<!dans )(?<!d'ici )(?<!within )(?<!in )\b\d{1,2} ?h(?![a-z])|\b\d{1,2}(?::\d{2})? ?(?:am|pm)\b"  # times
    r"|\b\d{5}(?= [a-z][a-z-]+)(?! (?:euros?|eur|dollars?|livres|pounds|usd|gbp|chf)\b)"  # zip
    r"|\b\d{1,3}(?:[.,]\d+)? ?%"  # percentages
    r"|\b(?:19|20)\d{2}-\d{2}-\d{2}t\S*",
    re.IGNORECASE,
)


def mask_distractors(norm: str, extra_tokens: tuple[str, ...] = ()) -> str:
    """Blank out footers, phones, IBANs, invoice numbers, times... (same length)."""
    chars = list(norm)

    def blank(start: int, end: int) -> None:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "

    for m in _FOOTER_LINE.finditer(norm):
        blank(m.start(), m.end())
    for m in _DISTRACTORS.finditer(norm):
        blank(m.start(), m.end())
    for token in extra_tokens:
        t = token.lower()
        if not t:
            continue
        start = norm.find(t)
        while start >= 0:
            blank(start, start + len(t))
            start = norm.find(t, start + len(t))
    return "".join(chars)


# --- sentences and language ------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<!\d)[.!?;]+(?=\s|$)|\n\s*\n|\n(?=\s*[-*•\d])|\n")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split into (start, end) spans of sentences or lines, trimmed of whitespace."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end()
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


_FR_WORDS = re.compile(
    r"\b(?:le|la|les|des|du|je|nous|vous|est|pas|pour|et|une|sur|avec|facture|paiement|"
    r"merci|bonjour|votre|notre|sera|avons|suis|dans|mois|ce|cette|qui|que|au|aux|reglement|"
    r"virement|madame|monsieur|cordialement)\b"
)
_EN_WORDS = re.compile(
    r"\b(?:the|and|to|we|you|is|not|for|will|our|your|invoice|payment|thanks|hello|hi|of|"
    r"this|that|be|are|have|has|it|on|by|with|please|dear|regards|month|paid|pay|can|would)\b"
)


def detect_language(norm: str) -> str:
    """Return "fr" or "en" from common-word counts (French on a tie)."""
    fr = len(_FR_WORDS.findall(norm))
    en = len(_EN_WORDS.findall(norm))
    return "en" if en > fr else "fr"
