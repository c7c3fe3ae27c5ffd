"""Turn an HTML e-mail body into readable plain text for the reply extractor.

Pure, stdlib-only (``html.parser``), lenient with broken markup and never raising.
Paragraphs, ``<br>``, list items and table rows become lines; ``<style>``/``<script>``
are dropped; quoted history is prefixed with ``> `` so that ``reply_text`` strips it:
``<blockquote>``, Gmail's ``gmail_quote``, Yahoo/Proton/Zimbra quote containers, and
everything from Outlook's ``divRplyFwdMsg`` / ``appendonsend`` marker to the end.
It does not decide what the writer wrote; that is ``reply_text``'s job.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {
    "p", "div", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
    "section", "article", "header", "footer", "dl", "dt", "dd", "center", "form",
    "fieldset", "address", "tbody", "thead", "tfoot", "caption", "hr", "body",
}  # fmt: skip
_SKIP = {"head", "style", "script", "title", "xml", "template", "noscript", "svg"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"}
# Containers whose whole content is quoted history.
_QUOTE_CLASSES = (
    "gmail_quote", "yahoo_quoted", "protonmail_quote", "zmail_extra", "moz-cite-prefix",
    "ms-outlook-mobile-reference-message",
)  # fmt: skip
# Markers after which the rest of the document is quoted history (Outlook, Zimbra).
_REST_IDS = ("divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container", "zwchr")
_REST_CLASSES = ("outlookmessageheader",)
_STRAY_LT = re.compile(r"<(?![A-Za-z/!?])")
_MAX_HTML = 2_000_000
_SPACES = re.compile(r"[ \t\r\n\f\v\u200b]+")


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.current: list[str] = []
        self.current_depth = 0
        self.depth = 0
        self.skip = 0
        self.pre = 0
        self.rest_quoted = False
        self.stack: list[tuple[str, bool]] = []
        self.paragraphs: list[bool] = []

    # -- helpers
    def _quote_level(self) -> int:
        return self.depth + (1 if self.rest_quoted else 0)

    def _newline(self) -> None:
        text = "".join(self.current)
        if not self.pre:
            text = text.strip(" \u00a0")
        self.lines.append((self.current_depth, text))
        self.current = []
        self.current_depth = self._quote_level()

    def _soft_break(self) -> None:
        pending = "".join(self.current)
        if pending.strip(" \u00a0"):
            self._newline()
        elif "\u00a0" in pending:  # <p>&nbsp;</p> and <div>&nbsp;</div> are blank lines
            self.current = []
            self._newline()
        else:
            self.current = []
            self.current_depth = self._quote_level()

    def _opens_quote(self, tag: str, attrs: dict[str, str]) -> bool:
        if tag == "blockquote":
            return True
        classes = attrs.get("class", "").lower()
        return (
            any(c in classes for c in _QUOTE_CLASSES)
            or "__quoted_text__" in attrs.get("data-marker", "").lower()
        )

    def _starts_rest(self, attrs: dict[str, str]) -> bool:
        ident = attrs.get("id", "").lower()
        classes = attrs.get("class", "").lower()
        return any(ident.startswith(m) for m in _REST_IDS) or any(
            c in classes for c in _REST_CLASSES
        )

    # -- parser callbacks
    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()  # namespaced Office tags (o:p, v:shape) fall through as unknown
        attrs = {k.lower(): (v or "") for k, v in attrs_list}
        if tag in _SKIP:
            self.skip += 1
            return
        if self._starts_rest(attrs) and not self.rest_quoted:
            self._soft_break()
            self.rest_quoted = True
            self.current_depth = self._quote_level()
        if tag == "br":
            self._newline()
            return
        if tag in _VOID and tag != "hr":
            return
        quote = self._opens_quote(tag, attrs)
        if tag in _BLOCK or tag in ("li", "blockquote") or quote:
            self._soft_break()
        if tag == "pre":
            self.pre += 1
        if tag == "p":
            # Outlook writes one <p class=MsoNormal> per line; other <p> are paragraphs.
            self.paragraphs.append("msonormal" not in attrs.get("class", "").lower())
        if tag in ("div", "blockquote", "span", "section", "td"):
            self.stack.append((tag, quote))
            if quote:
                self.depth += 1
                self.current_depth = self._quote_level()
        if tag == "li":
            self.current.append("- ")
        elif tag in ("td", "th") and "".join(self.current).strip():
            self.current.append(" ")

    def handle_startendtag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()  # namespaced Office tags (o:p, v:shape) fall through as unknown
        if tag in ("br", "hr"):
            attrs = {k.lower(): (v or "") for k, v in attrs_list}
            if self._starts_rest(attrs) and not self.rest_quoted:
                self._soft_break()
                self.rest_quoted = True
            if tag == "br":
                self._newline()
            else:
                self._soft_break()
        else:
            self.handle_starttag(tag, attrs_list)
            if tag not in _VOID:
                self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()  # namespaced Office tags (o:p, v:shape) fall through as unknown
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if tag in ("div", "blockquote", "span", "section", "td"):
            for k in range(len(self.stack) - 1, -1, -1):
                if self.stack[k][0] == tag:
                    closed = self.stack[k:]
                    del self.stack[k:]
                    if any(q for _, q in closed):
                        self._soft_break()
                        self.depth -= sum(1 for _, q in closed if q)
                        self.current_depth = self._quote_level()
                    break
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag in _BLOCK or tag in ("li", "blockquote", "p"):
            self._soft_break()
        if tag == "p" and self.paragraphs and self.paragraphs.pop():
            self._blank_line()

    def _blank_line(self) -> None:
        if self.lines and self.lines[-1][1]:
            self.lines.append((self._quote_level(), ""))

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not "".join(self.current).strip(" \u00a0"):
            self.current_depth = self._quote_level()
        self.current.append(data if self.pre else _SPACES.sub(" ", data))

    def result(self) -> str:
        self._soft_break()
        out: list[str] = []
        for depth, text in self.lines:
            text = text.replace("\u00a0", " ").rstrip()
            depth = min(depth, 8)  # deep nesting adds nothing but size
            if depth and text:
                out.append("> " * depth + text)
            elif depth:
                out.append(">")
            else:
                out.append(text)
        joined = "\n".join(out)
        joined = re.sub(r"\n{3,}", "\n\n", joined)
        return joined.strip()


def html_to_text(html: str) -> str:
    """Return readable plain text for ``html``, quoted history prefixed with ``> ``."""
    if not html:
        return ""
    # A "<" that opens no tag makes html.parser rescan the rest of the input: escape it.
    html = _STRAY_LT.sub("&lt;", html[:_MAX_HTML])
    if html.count("<") > 2 * html.count(">") + 100 or html.count('"') % 2 and len(html) > 50_000:
        return _crude(html)  # unterminated tags send html.parser quadratic
    parser = _Converter()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient, but never let markup break ingestion
        return _crude(html)
    return parser.result()


def _crude(html: str) -> str:
    text = re.sub(r"<[^<>]{0,2000}>", " ", html)
    return re.sub(r"[ \t]+", " ", text).strip()
