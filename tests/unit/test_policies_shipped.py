"""Every policy shipped in `policies/` (and the commented reference) is valid and complete."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from assistant.policy import Policy, load_policies, load_policy

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
REFERENCE = POLICIES / "reference" / "policy.reference.yaml"
SHIPPED = sorted(POLICIES.glob("*.yaml"))


def test_the_three_creditors_are_shipped() -> None:
    assert set(load_policies(POLICIES)) == {"atelier-bois", "distrib-pro", "thames-supplies"}


def test_the_reference_is_not_loaded_as_a_creditor() -> None:
    assert "reference-example" not in load_policies(POLICIES)


@pytest.mark.parametrize("path", [*SHIPPED, REFERENCE], ids=lambda p: p.name)
def test_each_policy_file_validates(path: Path) -> None:
    policy = load_policy(path)
    assert policy.slug == path.stem or path == REFERENCE
    assert policy.voice.sign_off


def test_reference_slug() -> None:
    assert load_policy(REFERENCE).slug == "reference-example"


def _model_of(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _field_names(model: type[BaseModel]) -> set[str]:
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        sub = _model_of(info.annotation)
        if sub is not None:
            names |= _field_names(sub)
    return names


def test_reference_documents_every_schema_field() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    missing = sorted(n for n in _field_names(Policy) if not re.search(rf"\b{n}:", text))
    assert not missing, f"fields not documented in {REFERENCE.name}: {missing}"


def test_reference_sets_every_block_so_examples_are_checked() -> None:
    policy = load_policy(REFERENCE)
    assert policy.mode == "agency" and policy.agency is not None
    assert policy.ladder.old_debts is not None and policy.history_tone is not None
    assert policy.overrides and policy.ladder.steps[0].pre_due


def test_distrib_pro_is_an_in_house_team_with_key_accounts() -> None:
    policy = load_policy(POLICIES / "distrib-pro.yaml")
    assert policy.mode == "in_house" and policy.language == "fr"
    assert policy.terms.waive_for_key_accounts
    assert policy.terms.late_interest.rule == "fixed" and policy.terms.late_interest.rate
    first = policy.ladder.steps[0]
    assert first.pre_due and first.days_after_due == -5
    assert len(policy.overrides) >= 3 and policy.history_tone is not None
    assert policy.minimum_amount > 0


def test_thames_supplies_is_a_uk_creditor() -> None:
    policy = load_policy(POLICIES / "thames-supplies.yaml")
    assert (policy.language, policy.jurisdiction) == ("en", "UK")
    assert policy.terms.late_interest.rule == "boe_plus_8"
    assert policy.sending.timezone == "Europe/London"
    assert policy.sending.holidays_country == "GB"


def test_distrib_pro_overrides_name_debtors_of_the_sample() -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(
        ROOT / "examples" / "distrib-pro" / "invoices.xlsx", read_only=True
    )
    rows = book.worksheets[0].iter_rows(values_only=True)
    column = next(rows).index("Compte")
    refs = {row[column] for row in rows}
    book.close()
    policy = load_policy(POLICIES / "distrib-pro.yaml")
    assert {o.debtor_ref for o in policy.overrides} <= refs


def _iban_ok(iban: str) -> bool:
    compact = iban.replace(" ", "")
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


@pytest.mark.parametrize("path", [*SHIPPED, REFERENCE], ids=lambda p: p.name)
def test_bank_details_have_a_valid_iban_checksum(path: Path) -> None:
    iban = load_policy(path).creditor.iban
    assert iban is None or _iban_ok(iban), iban
