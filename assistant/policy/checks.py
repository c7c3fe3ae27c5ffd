"""Checks a valid policy still needs before a cycle may use it: templates, legal amounts, wording.

The schema refuses what is malformed; these checks look at what only shows when letters are
rendered (a template file that does not exist, an indemnity the law does not allow, an English
letter that would sign off in French). Each finding is located by line and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml

from assistant.policy.schema import IndemnityBand, Policy
from assistant.yaml_check import field_name, line_index, nearest_line

Level = Literal["error", "warning"]
LANGUAGES = ("fr", "en")
# The flat indemnity the law sets per late invoice (France: Code de commerce D441-5).
LEGAL_FLAT_INDEMNITY: dict[str, Decimal] = {"FR": Decimal("40")}
# UK Late Payment of Commercial Debts (Interest) Act 1998, s. 5A: by the size of the debt.
LEGAL_INDEMNITY_BANDS: dict[str, tuple[tuple[Decimal | None, Decimal], ...]] = {
    "UK": (
        (Decimal("1000"), Decimal("40")),
        (Decimal("10000"), Decimal("70")),
        (None, Decimal("100")),
    ),
}


@dataclass(frozen=True)
class PolicyFinding:
    """One thing `policy check` reports about a policy that loads."""

    level: Level
    line: int | None
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form used by `policy check --json`."""
        return {"line": self.line, "field": self.field, "message": self.message}


def _bands(bands: list[IndemnityBand]) -> tuple[tuple[Decimal | None, Decimal], ...]:
    return tuple((b.below, b.amount) for b in bands)


def _money(value: Decimal) -> str:
    return f"{value.normalize():f}"


def template_findings(policy: Policy, templates_dir: Path) -> list[tuple[Level, tuple, str]]:
    """Return a finding for each step whose template is missing in a letter language."""
    root = Path(templates_dir)
    if not (root / "fr").is_dir() and (root / "letters").is_dir():
        root = root / "letters"
    required = {policy.language} | {o.language for o in policy.overrides if o.language}
    out: list[tuple[Level, tuple, str]] = []
    for i, step in enumerate(policy.ladder.steps):
        for lang in LANGUAGES:
            missing = [
                f"{lang}/{step.template}{ext}"
                for ext in (".txt.j2", ".html.j2")
                if not (root / lang / f"{step.template}{ext}").is_file()
            ]
            if not missing:
                continue
            level: Level = "error" if lang in required else "warning"
            what = (
                "the cycle cannot draft this step"
                if level == "error"
                else f"debtors whose language is {lang} cannot get this step"
            )
            out.append(
                (
                    level,
                    ("ladder", "steps", i, "template"),
                    f"step {step.name!r}: no template {', '.join(missing)} in {root}: {what}",
                )
            )
    return out


def legal_findings(policy: Policy) -> list[tuple[Level, tuple, str]]:
    """Return warnings for an indemnity other than the one the creditor's country sets."""
    terms = policy.terms
    if not terms.recovery_indemnity:
        return []
    country = policy.jurisdiction
    out: list[tuple[Level, tuple, str]] = []
    flat = LEGAL_FLAT_INDEMNITY.get(country)
    if flat is not None:
        if terms.indemnity_bands:
            out.append(
                (
                    "warning",
                    ("terms", "indemnity_bands"),
                    f"the recovery indemnity in {country} is a flat {_money(flat)} per late "
                    "invoice: bands by size are not the legal amount",
                )
            )
        elif terms.indemnity_amount != flat:
            out.append(
                (
                    "warning",
                    ("terms", "indemnity_amount"),
                    f"indemnity_amount {_money(terms.indemnity_amount)}: the legal recovery "
                    f"indemnity in {country} is {_money(flat)} per late invoice "
                    "(Code de commerce D441-5)",
                )
            )
    legal = LEGAL_INDEMNITY_BANDS.get(country)
    if legal is not None and terms.indemnity_bands and _bands(terms.indemnity_bands) != legal:
        shown = ", ".join(
            f"{_money(a)} below {_money(b)}" if b else f"{_money(a)} above" for b, a in legal
        )
        out.append(
            (
                "warning",
                ("terms", "indemnity_bands"),
                f"the legal indemnity bands in {country} are {shown}",
            )
        )
    return out


def wording_findings(policy: Policy) -> list[tuple[Level, tuple, str]]:
    """Return a warning when letters in another language would sign off in the policy's."""
    out: list[tuple[Level, tuple, str]] = []
    for lang in LANGUAGES:
        if lang != policy.language and lang not in policy.voice.translations:
            out.append(
                (
                    "warning",
                    ("voice", "translations"),
                    f"no {lang} sign-off: letters in {lang} would close with "
                    f"{policy.voice.sign_off!r} (add voice.translations.{lang})",
                )
            )
    return out


def check_policy(policy: Policy, text: str, templates_dir: Path | None) -> list[PolicyFinding]:
    """Return the errors and warnings of a policy that validates, located in its `text`."""
    try:
        lines = line_index(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        lines = {}
    raw = legal_findings(policy) + wording_findings(policy)
    if templates_dir is not None:
        raw = template_findings(policy, templates_dir) + raw
    return [
        PolicyFinding(level, nearest_line(lines, loc), field_name(loc), message)
        for level, loc, message in raw
    ]
