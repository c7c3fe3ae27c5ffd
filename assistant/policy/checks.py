"""Checks a valid policy still needs before a cycle may use it: templates, legal amounts, wording.

The schema refuses what is malformed; these checks look at what only shows when letters are
rendered (a template file that does not exist, an indemnity the law does not allow, an English
letter that would sign off in French). Each finding is located by line and field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml

from assistant.policy.fields import ChecksumError, check_siren, check_siret, check_vat_number
from assistant.policy.schema import IndemnityBand, Policy
from assistant.yaml_check import MAX_CHARS, check_expansion, field_name, line_index, nearest_line

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


def _templates_root(templates_dir: Path) -> Path:
    root = Path(templates_dir)
    if not (root / "fr").is_dir() and (root / "letters").is_dir():
        root = root / "letters"
    return root


def template_findings(policy: Policy, templates_dir: Path) -> list[tuple[Level, tuple, str]]:
    """Return a finding for each step whose template is missing in a letter language."""
    steps = [(i, step.name, step.template) for i, step in enumerate(policy.ladder.steps)]
    required: set[str] = {policy.language} | {o.language for o in policy.overrides if o.language}
    return _missing_templates(steps, required, templates_dir)


def _missing_templates(
    steps: list[tuple[int, str, str]], required: set[str], templates_dir: Path
) -> list[tuple[Level, tuple, str]]:
    root = _templates_root(templates_dir)
    out: list[tuple[Level, tuple, str]] = []
    for i, name, template in steps:
        for lang in LANGUAGES:
            missing = [
                f"{lang}/{template}{ext}"
                for ext in (".txt.j2", ".html.j2")
                if not (root / lang / f"{template}{ext}").is_file()
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
                    f"step {name!r}: no template {', '.join(missing)} in {root}: {what}",
                )
            )
    return out


def _raw_template_findings(data: Mapping[str, Any], templates_dir: Path) -> list[tuple]:
    """Template findings read from a policy that does not validate (what can be read)."""
    ladder = data.get("ladder")
    raw_steps = ladder.get("steps") if isinstance(ladder, Mapping) else None
    steps = [
        (i, str(step.get("name", f"#{i + 1}")), step["template"])
        for i, step in enumerate(raw_steps if isinstance(raw_steps, list) else [])
        if isinstance(step, Mapping)
        and isinstance(step.get("template"), str)
        and _TEMPLATE_NAME.match(step["template"])
    ]
    language = data.get("language", "fr")
    required = {language} if language in LANGUAGES else set()
    overrides = data.get("overrides")
    for override in overrides if isinstance(overrides, list) else []:
        if isinstance(override, Mapping) and override.get("language") in LANGUAGES:
            required.add(override["language"])
    return _missing_templates(steps, required, templates_dir)


_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]+$")
_IDENTITY_CHECKS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("siren", check_siren),
    ("siret", check_siret),
    ("vat_number", check_vat_number),
)


def identity_findings(data: Mapping[str, Any]) -> list[tuple[Level, tuple, str]]:
    """Return an error for each SIREN, SIRET or VAT number of the creditor or agency that is
    malformed (wrong length, not digits), and a warning for one whose check digits fail or
    that is written unquoted (read from the YAML data, valid policy or not)."""
    out: list[tuple[Level, tuple, str]] = []
    for party in ("creditor", "agency"):
        values = data.get(party)
        if not isinstance(values, Mapping):
            continue
        for key, check in _IDENTITY_CHECKS:
            value = values.get(key)
            if value is None:
                continue
            try:
                check(str(value))
            except ChecksumError as exc:  # a typo to check with the registry, not a format error
                out.append(("warning", (party, key), str(exc)))
            except ValueError as exc:
                out.append(("error", (party, key), str(exc)))
            else:
                if not isinstance(value, str):
                    out.append(
                        ("warning", (party, key), f"write {key} as a quoted string (leading zeros)")
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


def _located(text: str, raw: list[tuple]) -> list[PolicyFinding]:
    try:
        lines = line_index(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        lines = {}
    return [
        PolicyFinding(level, nearest_line(lines, loc), field_name(loc), message)
        for level, loc, message in raw
    ]


def _data(text: str) -> Mapping[str, Any]:
    """Read the YAML mapping of `text` (empty when it is not safe or not a mapping)."""
    if len(text) > MAX_CHARS:
        return {}
    try:
        check_expansion(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, Mapping) else {}


def check_policy(policy: Policy, text: str, templates_dir: Path | None) -> list[PolicyFinding]:
    """Return the errors and warnings of a policy that validates, located in its `text`."""
    raw = identity_findings(_data(text)) + legal_findings(policy) + wording_findings(policy)
    if templates_dir is not None:
        raw = template_findings(policy, templates_dir) + raw
    return _located(text, raw)


def check_invalid_policy(
    text: str, templates_dir: Path | None, reported: set[str]
) -> list[PolicyFinding]:
    """Return what else is wrong with a policy the schema refused, so that one run of
    `policy check` reports every error: missing templates, malformed identity numbers.

    Fields in `reported` (already named by the schema) are left out.
    """
    data = _data(text)
    raw = identity_findings(data)
    if templates_dir is not None:
        raw = _raw_template_findings(data, templates_dir) + raw
    return [f for f in _located(text, raw) if f.field not in reported]
