"""Checks of what a letter announces about its form: attachments, registered mail, sign-off.

Pure: the validator passes the folded text (lower case, no accents) and the draft's facts.
"""

from __future__ import annotations

import re

from assistant.domain import DebtorFacts, Finding
from assistant.policy.schema import LadderStep, Policy

# Words by which a letter says something is attached (folded: no accents, lower case).
_ATTACHED = re.compile(
    r"(?<![\w-])(pieces? jointes?|ci-joint(e|s|es)?|en annexe|attached|enclosed|attachments?)"
    r"(?![\w-])"
)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n")


# Each of those words holds one of these: a text with none of them needs no regex search.
_ATTACHED_CORES = ("piece", "ci-joint", "en annexe", "attach", "enclosed")


def announces_attachment(folded: str) -> bool:
    """Tell whether the folded text has a word that announces an attachment."""
    if not any(core in folded for core in _ATTACHED_CORES):
        return False
    return _ATTACHED.search(folded) is not None


def check_attachments(folded: str, attachments: tuple[str, ...]) -> list[Finding]:
    """Block a letter that says something is attached when its draft does not carry it."""
    if not announces_attachment(folded):  # no sentence can say so (splits only drop spaces)
        return []
    for sentence in _SENTENCE_END.split(folded):
        if not _ATTACHED.search(sentence):
            continue
        if "releve" in sentence or "statement" in sentence:
            needed, what = "statement", "a statement of account"
        elif "copie" in sentence or "copy" in sentence or "copies" in sentence:
            needed, what = "invoice_copies", "invoice copies"
        else:
            needed, what = "", "an attachment"
        present = needed in attachments if needed else bool(attachments)
        if not present:
            return [
                Finding(
                    "missing_attachment",
                    f"The letter says {what} is attached, but the draft carries none: "
                    "attach it or change the wording.",
                )
            ]
    return []


def check_mail(
    policy: Policy, step: LadderStep, debtor: DebtorFacts, language: str
) -> list[Finding]:
    """Check what the letter's form needs: a postal address, a sign-off in its language."""
    found = []
    if step.formal_notice and step.pdf and not (debtor.address or "").strip():
        found.append(
            Finding(
                "no_postal_address",
                f"The formal notice goes by registered mail, but {debtor.name} has no postal "
                "address: import it (debtor_address) before approving.",
            )
        )
    if language != policy.language and language not in policy.voice.translations:
        found.append(
            Finding(
                "untranslated_sign_off",
                f"The letter is in {language} but the policy has no {language} sign-off "
                f"(voice.translations.{language}): it closes with {policy.voice.sign_off!r}.",
                blocking=False,
            )
        )
    return found
