"""Legal texts letters must reproduce word for word, shared by templates and the validator.

Keep the wording here exactly as published: the validator checks letters against these
constants, so a typo fixed in one place is fixed everywhere.
"""

from __future__ import annotations

# Code des procédures civiles d'exécution, art. L111-8, paragraphs 2 and 3 — reproduced
# verbatim in every letter of a collection agency (art. R124-4, 5°).
L111_8_PARAGRAPHS: tuple[str, str] = (
    "Les frais de recouvrement entrepris sans titre exécutoire restent à la charge du "
    "créancier, sauf s'ils concernent un acte dont l'accomplissement est prescrit par la loi. "
    "Toute stipulation contraire est réputée non écrite, sauf disposition législative contraire.",
    "Cependant, le créancier qui justifie du caractère nécessaire des démarches entreprises pour "
    "recouvrer sa créance peut demander au juge de l'exécution de laisser tout ou partie des "
    "frais ainsi exposés à la charge du débiteur de mauvaise foi.",
)
L111_8_TITLE_FR = "Article L111-8 du Code des procédures civiles d'exécution (alinéas 2 et 3)"
L111_8_TITLE_EN = "Article L111-8 of the French Code of Civil Enforcement Procedures (paragraphs 2 and 3, verbatim)"

# Labels of the R124-4 amount split, per language: principal, interest, other sums.
AMOUNT_SPLIT_LABELS: dict[str, tuple[str, str, str]] = {
    "fr": ("Principal", "Intérêts", "Autres sommes"),
    "en": ("Principal", "Interest", "Other sums"),
}
# The L111-8 rule in the letter's words: the cost of the agency's amicable recovery stays
# with the creditor. It must not deny the statutory indemnity the letter may claim (L441-10),
# which is why the old "no recovery costs are payable by you" wording is refused.
NO_FEES_STATEMENT: dict[str, str] = {
    "fr": (
        "Les frais de la présente procédure de recouvrement amiable restent à la charge du "
        "créancier et ne vous sont pas réclamés (article L111-8 reproduit ci-dessous)"
    ),
    "en": (
        "The costs of this amicable recovery are borne by the creditor and are not claimed "
        "from you (article L111-8, reproduced below)"
    ),
}
CONTRADICTORY_NO_FEES: tuple[str, ...] = (
    "aucun frais de recouvrement n'est à votre charge",
    "no collection fees are payable by you",
)

# Regulation F (12 CFR 1006) disclosures for a US consumer debt.
US_DEBT_DISCLOSURE = (
    "This is an attempt to collect a debt, and any information obtained will be used for "
    "that purpose."
)
US_DEBT_COLLECTOR = "This communication is from a debt collector."


def r124_4_applies(mode: str, jurisdiction: str) -> bool:
    """Tell whether a letter must carry the R124-4 mentions (French collection agency)."""
    return mode == "agency" and jurisdiction == "FR"
