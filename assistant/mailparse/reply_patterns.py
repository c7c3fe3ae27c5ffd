"""Line patterns that recognise quoted history, signatures and footers in e-mail text.

Only compiled regular expressions and tiny predicates over one cleaned line live here;
the walk over a whole message is in ``reply_text``. Patterns are general (client
wording in French, English and a few other languages), never copied from a test input.
"""

from __future__ import annotations

import re
import unicodedata

_I = re.IGNORECASE

# Invisible characters that clients sprinkle into text (BOM, zero-width, bidi marks).
INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060\u200e\u200f\u202a\u202c\u00ad\u1427"
_INVISIBLE_TABLE = {ord(c): None for c in INVISIBLE}
_SPACES_TABLE = {0x00A0: " ", 0x202F: " ", 0x2007: " ", 0x3000: " ", 0x09: " "}


_MAX_LINE = 1000  # header, footer and signature lines are short; bounds regex work


def clean_line(line: str) -> str:
    """Return ``line`` without invisible characters, with exotic spaces made plain."""
    line = line[:_MAX_LINE]
    if line.isascii():
        return line.replace("\t", " ").rstrip()
    return line.translate(_INVISIBLE_TABLE).translate(_SPACES_TABLE).rstrip()


# --------------------------------------------------------------------------- attribution lines
# "On Tue, Nov 4, 2026 at 10:12 AM X wrote:" / "Le 4 nov. 2026 à 10:12, X a écrit :" and
# friends; the header may be wrapped over several lines, so start and end are matched apart.
_LEAD = r"^[\s*_\-–—]*"
ATTRIB_START = re.compile(_LEAD + r"(?:on|le|am|el|il|op|em|den|w\s+dniu|dnia)\s+\S", _I)
DATE_START = re.compile(
    _LEAD
    + r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})[\s,]+\d{1,2}[:h]\d{2}",
    _I,
)
DATE_ONLY_START = re.compile(
    _LEAD + r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})\b"
)
ATTRIB_END = re.compile(
    r"(?:wrote|writes|a\s+[ée]crit|[ée]crit|schrieb|написала?|escribi[óo]|ha\s+scritto|"
    r"schreef|skrev|napisa[łl]a?|escreveu)\s*:?\s*(?:-{2,}\s*)?$",
    _I,
)
# The same header glued to the end of the writer's own line ("reply On Wed, ... wrote:").
ATTRIB_INLINE = re.compile(
    r"\s(?=(?:On|Le)\s+(?:[A-Za-zéû]{3,9}\.?,?\s+){0,2}\d{1,4}\b.{0,200}(?:wrote|a\s+écrit)\s*:\s*$)"
)
DASHED_WROTE = re.compile(r"^\s*-{2,}.{1,150}\b(?:wrote|a\s+[ée]crit)\s*-{2,}\s*$", _I)
SHORT_WROTE = re.compile(r"^\s*\S.{0,100}\s(?:wrote|a\s+[ée]crit)\s*:\s*$", _I)
EMAIL = re.compile(r"[\w.+%-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
HAS_DIGIT = re.compile(r"\d")

# --------------------------------------------------------------------------- separators
_PHRASES = (
    r"original\s+message|message\s+d['’]origine|forwarded\s+message|message\s+transf[ée]r[ée]|"
    r"mensaje\s+original|mensaje\s+reenviado|urspr[üu]ngliche\s+nachricht|"
    r"weitergeleitete\s+nachricht|messaggio\s+originale|messaggio\s+inoltrato|"
    r"oorspronkelijk\s+bericht|doorgestuurd\s+bericht|message\s+original|reply\s+message|"
    r"mail\s+original|(?:mail|courriel)\s+d['’]origine|courriel\s+original|message\s+initial|"
    r"this\s+is\s+a\s+copy\s+of\s+the\s+message"
)
SEPARATOR = re.compile(
    r"^[\s>]*(?:[-=_*]{2,}\s*(?:" + _PHRASES + r")|\**(?:" + _PHRASES + r")\s*[-=_*:]{2,})", _I
)
FORWARD_INTRO = re.compile(
    r"^[\s>*]*(?:begin\s+forwarded\s+message|d[ée]but\s+du\s+message\s+(?:r[ée]exp[ée]di[ée]|"
    r"transf[ée]r[ée])|inicio\s+del\s+mensaje\s+reenviado|anfang\s+der\s+weitergeleiteten\s+"
    r"nachricht)\s*:",
    _I,
)
UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
# Orange/Wanadoo webmail opens its header block with "Message du 24/11/26 10:12".
MESSAGE_DU = re.compile(r"^[\s>]*message\s+du\s*:?\s*\d{1,2}[/.]\d{1,2}[/.]\d{2,4}", _I)

# --------------------------------------------------------------------------- header blocks
_KEY_GROUPS = {
    "from": r"from|de|von|van|от|da",
    "sent": r"sent|envoy[ée](?:\s+le)?|gesendet|verzonden|enviado(?:\s+el)?|отправлено|date|"
    r"datum|fecha|дата|message\s+du|inviato",
    "to": r"to|[àa]|pour|an|aan|para|кому|destinataire",
    "subject": r"subject|objet|sujet|betreff|onderwerp|asunto|тема|oggetto",
    "cc": r"cc|cci|bcc|copie(?:\s+[àa])?",
    "reply": r"reply-to|r[ée]pondre\s+[àa]",
}
HEADER_KEY = re.compile(
    r"^[\s>*_]*(?:"
    + "|".join(f"(?P<{k.replace('-', '_')}>{v})" for k, v in _KEY_GROUPS.items())
    + r")[*_]*\s*:",
    _I,
)

# --------------------------------------------------------------------------- signatures
SIG_DELIMITER = re.compile(r"^(?:--|__)\s*$")
_DEVICE_WORDS = (
    r"iphone|ipad|ipod|android|samsung|galaxy|mobile|mobil|blackberry|outlook|mail|yahoo|gmail|"
    r"wiko|huawei|xiaomi|pixel|htc|nokia|sony|motorola|oneplus|oppo|windows|typeapp|airmail|"
    r"mailbox|smartphone|phone|t[ée]l[ée]phone|portable|tablet|tablette|device|appareil|spark|"
    r"proton|bluemail|aquamail|sparrow|polymail|k-9|fairemail|edison|newton|superhuman|"
    r"acompli|orange|sfr|free|laposte|cell|verizon|telcel|m[óo]vil|palm|kindle"
)
DEVICE_WORD = re.compile(r"\b(?:" + _DEVICE_WORDS + r")", _I)
DEVICE_LINE = re.compile(
    r"^[\s(<\[*_]*(?:sent|envoy[ée]|enviado|inviato|verzonden|gesendet|exp[ée]di[ée]|"
    r"sended|transmis)\s+(?:from|de|depuis|[àa]\s+partir\s+de|with|via|using|desde|da|"
    r"met|vanaf|von|avec)\b(?P<rest>.{0,80})$",
    _I,
)
OTHER_DEVICE_LINE = re.compile(
    r"^[\s(<\[*_]*(?:get\s+(?:the\s+)?outlook(?:\s+app)?\s+for\s+\w+|(?:obtenez|t[ée]l[ée]chargez?|"
    r"t[ée]l[ée]charger|obtenir)\s+outlook\s+pour\s+\w+|von\s+meinem\s+.{1,40}\s+gesendet|"
    r"diese\s+nachricht\s+wurde\s+von\s+meinem|provenance\s*:\s*(?:courrier|mail)\s+pour\s+"
    r"windows|從我的.{1,20}傳送|enviado\s+desde\s+mi|inviato\s+da\s+(?:il\s+)?mio)",
    _I,
)
_POSSESSIVE = re.compile(r"\s*(?:my|mon|ma|mes|mi|mein\w*|il\s+mio|mijn)\b", _I)
_URL_BITS = re.compile(
    r"<[^<>]{0,300}>|\[([^\[\]]{0,100})\]\([^()]{0,300}\)|\(https?://[^()]{0,300}\)|https?://\S{0,300}"
)

SIGNOFF = re.compile(
    r"^\s*(?:(?:bien|tr[èeé]s|trés)\s+)?(?:cordialement(?:\s+v[ôo]tre)?|cdlt|cdt|"
    r"bien\s+[àa]\s+(?:vous|toi)|(?:(?:sinc[èe]res|meilleures|mes|nos|bien|tr[èe]s)\s+)?"
    r"salutations(?:\s+distingu[ée]es)?|bien\s+sinc[èe]rement|sinc[èe]rement|amicalement|"
    r"amiti[ée]s|bonne\s+(?:journ[ée]e|soir[ée]e|fin\s+de\s+journ[ée]e|semaine|continuation|"
    r"fin\s+de\s+semaine|r[ée]ception)|belle\s+journ[ée]e|excellente\s+journ[ée]e|"
    r"[àa]\s+bient[ôo]t|au\s+revoir|respectueusement|"
    r"merci(?:\s+(?:beaucoup|bien|encore|d['’]avance|par\s+avance|[àa]\s+vous|pour\s+tout))?"
    r"(?:\s+(?:pour|de)\s+votre\s+(?:compr[ée]hension|patience|retour|aide|r[ée]ponse|"
    r"attention|confiance))?|dans\s+l['’]attente\s+de\s+(?:votre|vous)\s*\w*|"
    r"en\s+vous\s+remerciant(?:\s+(?:par|d['’])\s*avance)?|"
    r"(?:(?:best|kind|warm|warmest|many|with\s+(?:best|kind)|kindest)\s+)?regards|best|cheers|"
    r"thanks(?:\s+(?:a\s+lot|again|in\s+advance|so\s+much))?(?:\s*(?:&|and)\s*regards)?|"
    r"thank\s+you(?:\s+(?:very\s+much|so\s+much|again|in\s+advance))?|many\s+thanks|"
    r"sincerely(?:\s+yours)?|yours\s+(?:sincerely|truly|faithfully)|respectfully|"
    r"all\s+the\s+best|best\s+wishes|take\s+care|rgds|br|mfg|saludos|grazie)"
    r"(?:\s+[àa]\s+(?:vous|toi|tous))?"
    r"(?:\s*[,.!;:]+\s*(?P<name>[^\W\d_][^\d@:]{0,38})?)?\s*[,.!]*\s*$",
    _I,
)
NAME_LINE = re.compile(r"^[\s/\-–—~*_]*[^\W\d_][^\d@:<>]{0,38}$")
DASH_NAME_LINE = re.compile(r"^[-–—~]\s?[A-ZÀ-Ý][^\W\d_]*(?:[ .'’-][^\W\d_]+){0,3}\s*$")
IMAGE_PLACEHOLDER = re.compile(r"^\s*[\[<(]?(?:cid:|image\d*[.:]|logo)", _I)
NAME_SEPARATOR = re.compile(r"\s*\|\s*|\s[-–—]\s")
PS_LINE = re.compile(r"^\s*p\.?\s?-?s\.?\s*[:.\-]?\s", _I)
LEGAL_MARKER = re.compile(
    r"\b(?:siret|siren|rcs|capital(?:\s+social)?\s+(?:de\s+)?\d|capital\s+social|"
    r"tva\s+intra|n°\s*tva|vat\s+(?:no|number|reg)|code\s+ape|naf|company\s+(?:no|number|reg)|"
    r"registered\s+(?:office|in\s+england|number|no)|immatricul|si[èe]ge\s+social)",
    _I,
)
CONTACT_MARKER = re.compile(
    r"^\s*(?:t[ée]l(?:[ée]phone)?|tel|phone|mobile|mob|portable|port|gsm|fax|ligne\s+directe|"
    r"direct|standard|e-?mail|courriel|web|site|www)\b|www\.|https?://|@|\+\d{2}|"
    r"\b0\d(?:[ .]?\d{2}){4}\b",
    _I,
)

CONTACT_LABEL = re.compile(
    r"^\s*(?:t[ée]l(?:[ée]phone)?|tel|phone|mobile|mob|portable|gsm|fax|ligne\s+directe|"
    r"standard)\b|www\.|https?://",
    _I,
)


# What a signature block shows (job title, company form, contact, image placeholder) ...
SIG_EVIDENCE = re.compile(
    r"\b(?:sarl|sasu?|eurl|sa|sci|scop|snc|ei|ltd|limited|inc|llc|llp|plc|gmbh|s\.?r\.?l|"
    r"s\.?a\.?s|corp|group[e]?|g[ée]rante?|directeur|directrice|director|pr[ée]sidente?|"
    r"president|responsable|comptab\w*|assistante?|manager|head|ceo|cfo|coo|daf|raf|"
    r"service|d[ée]partement|department|[ée]quipe|team|team\s+lead|chef|charg[ée]e?|"
    r"accountant|accounts|payable|receivable|procurement|achats|fondateur|founder|"
    r"associ[ée]e?|partner|cabinet|agence|si[èe]ge|linkedin|twitter|facebook|cid:)\b|\[cid:",
    _I,
)
# ... and what it never holds: the money, invoices and payments the reply is about.
BUSINESS_WORDS = re.compile(
    r"\d[\d\s.,]{0,24}(?:€|eur\b|euros?\b)|€\s?\d|[$£]\s?\d|\b(?:facture|invoice|ch[èe]que|"
    r"cheque|check|virement|paiement|payment|r[èe]glement|pay|payer|paierai|r[ée]gler)\b",
    _I,
)


def is_prose(clean: str) -> bool:
    """Tell whether a line reads like a sentence rather than a signature field."""
    tokens = clean.split()
    if sum(1 for t in tokens if any(ch.isalpha() for ch in t)) < 5:
        return False
    last = tokens[-1]
    abbreviation = last.endswith(".") and "." in last[:-1]  # "S.r.l.", "S.A."
    if last[-1] in ".?!:;" and not abbreviation:
        return True
    first = clean.lstrip(" -–—*>\t")[:1]
    return first.isalpha() and first.islower()


# --------------------------------------------------------------------------- disclaimers/banners
DISCLAIMER_START = re.compile(
    r"^[\s*P]*(?:ce\s+(?:message|courriel|e-?mail|mail)|cet\s+e-?mail|le\s+pr[ée]sent\s+"
    r"(?:message|courriel|e-?mail)|les\s+informations\s+contenues|this\s+(?:e-?mail|message|"
    r"communication|electronic)|the\s+information\s+(?:contained|in\s+this)|if\s+you\s+are\s+not"
    r"\s+the\s+intended|si\s+vous\s+(?:n['’][êe]tes\s+pas|avez\s+re[çc]u)|(?:merci\s+de\s+)?"
    r"pense[zr]?\s+[àa]\s+l['’]environnement|n['’]imprimez|please\s+consider\s+the\s+environment|avant\s+d['’]imprimer|"
    r"think\s+before\s+(?:you\s+)?print|(?:confidentiality\s+)?(?:notice|disclaimer|"
    r"avertissement|confidentialit[ée])\s*:|confidential(?:ity)?\s+notice|"
    r"(?:disclaimer|avertissement)\b|avis\s+de\s+confidentialit[ée]|clause\s+de\s+"
    r"confidentialit[ée]|mentions?\s+l[ée]gales?)",
    _I,
)
DISCLAIMER_WORD = re.compile(
    r"confidenti|destinataire|intended\s+recipient|environ|imprim|print|privil[eè]g|"
    r"strictement|autoris|authori[sz]|erreur|error|d[ée]truire|delete|virus",
    _I,
)
BANNER = re.compile(
    r"^\s*\[?(?:caution|warning|attention|external|externe|avertissement|notice)\b.{0,160}"
    r"(?:external|externe|ext[ée]rieur|outside|en\s+dehors)",
    _I,
)


def is_blank(clean: str) -> bool:
    """Tell whether a cleaned line has no visible text."""
    return not clean.strip()


def is_quote(clean: str) -> bool:
    """Tell whether a cleaned line is a ``>`` quoted line."""
    return clean.lstrip().startswith(">")


def is_junk(clean: str) -> bool:
    """Tell whether a line holds only punctuation or symbols (rules, stray marks)."""
    s = clean.strip()
    if not s:
        return True
    if s.startswith(("[", "(")) and s.endswith(("]", ")")):
        return False
    return all(unicodedata.category(c)[0] in "PSZ" for c in s) and not any(
        unicodedata.category(c) == "So" for c in s
    )


def is_device_line(clean: str) -> bool:
    """Tell whether a line is a mobile/webmail footer such as "Envoyé de mon iPhone"."""
    text = _URL_BITS.sub(lambda m: m.group(1) or " ", clean).strip()
    if not text or len(text) > 110:
        return False
    if OTHER_DEVICE_LINE.match(text):
        return True
    m = DEVICE_LINE.match(text)
    if not m:
        return False
    rest = m.group("rest")
    head = rest.split(",", 1)[0]
    if "," in rest or len(rest.split()) > 7:
        return bool(DEVICE_WORD.search(head))
    return bool(DEVICE_WORD.search(rest) or _POSSESSIVE.match(rest))


def header_group(clean: str) -> str | None:
    """Return the header family ("from", "sent", ...) a line such as ``Objet :`` opens."""
    m = HEADER_KEY.match(clean)
    if not m:
        return None
    return next(k for k, v in m.groupdict().items() if v is not None)
