"""`relance policy check|preview` as a credit manager uses them before publishing a policy."""
# ruff: noqa: F811 (the `relance` fixture is imported from the core CLI tests)

from __future__ import annotations

import re

from tests.e2e.test_core_cli import DAY, ROOT, as_json, relance  # noqa: F401

ATELIER = (ROOT / "policies" / "atelier-bois.yaml").read_text(encoding="utf-8")
PRE_REMINDER = (
    "    - {name: pre_reminder, days_after_due: -5, template: pre_reminder, tone: courteous, "
    "min_days_since_previous: 0, pre_due: true}\n"
)
INVOICES = (
    "debtor_ref;debtor_name;debtor_email;invoice_number;issue_date;due_date;amount;outstanding\n"
    "C1;Scierie Leduc SARL;compta@leduc.example;FA-OLD;2026-09-20;2026-10-20;900,00;900,00\n"
    "C1;Scierie Leduc SARL;compta@leduc.example;FA-SOON;2026-10-29;2026-11-28;450,00;450,00\n"
    "C1;Scierie Leduc SARL;compta@leduc.example;FA-PAID;2026-09-01;2026-10-01;100,00;0,00\n"
)


def policy_file(tmp_path, text: str):
    path = tmp_path / "atelier-bois-next.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def preview_pre_reminder(relance, tmp_path, *more: str) -> str:  # type: ignore[no-untyped-def]
    """Preview the pre-reminder of atelier-bois with one added (a file not yet published)."""
    path = policy_file(tmp_path, ATELIER.replace("  steps:\n", "  steps:\n" + PRE_REMINDER, 1))
    args = ("policy", "preview", str(path), "--step", "pre_reminder", "--date", DAY, *more)
    return relance(*args).stdout


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_check_reports_a_missing_template_as_an_error_at_the_step(relance, tmp_path):
    text = ATELIER.replace("template: reminder_2,", "template: reminder_deux,")
    result = relance("policy", "check", str(policy_file(tmp_path, text)), "--json", code=1)
    [entry] = as_json(result)["files"]
    [error] = entry["errors"]
    assert error["field"] == "ladder.steps[1].template"
    assert error["line"] == line_of(text, "reminder_deux")
    assert "fr/reminder_deux.txt.j2" in error["message"]


def test_check_warns_about_an_indemnity_other_than_the_legal_one(relance, tmp_path):
    text = ATELIER.replace("indemnity_amount: 40", "indemnity_amount: 400")
    assert "indemnity_amount: 400" in text
    result = relance("policy", "check", str(policy_file(tmp_path, text)), "--json")
    [entry] = as_json(result)["files"]
    assert entry["ok"] and not entry["errors"]
    [warning] = [w for w in entry["warnings"] if w["field"] == "terms.indemnity_amount"]
    assert warning["line"] == line_of(text, "indemnity_amount: 400")
    assert "40" in warning["message"] and "400" in warning["message"]


def test_check_of_the_shipped_policies_has_no_indemnity_warning(relance):
    result = as_json(relance("policy", "check", str(ROOT / "policies"), "--json"))
    assert result["ok"]
    fields = {w["field"] for f in result["files"] for w in f["warnings"]}
    assert not {"terms.indemnity_amount", "terms.indemnity_bands"} & fields


def test_check_warns_when_english_letters_would_sign_off_in_french(relance, tmp_path):
    lines = ATELIER.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip() == "translations:")
    untranslated = tmp_path / "atelier-bois.yaml"
    untranslated.write_text("".join(lines[:at] + lines[at + 2 :]), encoding="utf-8")
    result = as_json(relance("policy", "check", str(untranslated), "--json"))
    [entry] = result["files"]
    [warning] = [w for w in entry["warnings"] if w["field"] == "voice.translations"]
    assert "salutations distinguées" in warning["message"]


def test_preview_of_an_unpublished_file_shows_the_difference_from_live(relance, tmp_path):
    text = ATELIER.replace("deadline_days: 8", "deadline_days: 15")
    result = relance(
        "policy",
        "preview",
        str(policy_file(tmp_path, text)),
        "--step",
        "formal_notice",
        "--date",
        DAY,
        "--against",
        "live",
    )
    out = result.stdout
    assert "difference from the live policy" in out
    assert "BLOCKING" not in out  # the sample debtor has what a registered letter needs
    diff = out.split("difference from the live policy", 1)[1]
    assert re.search(r"^-.*\b4 décembre 2026", diff, re.M)
    assert re.search(r"^\+.*\b11 décembre 2026", diff, re.M)


def test_preview_sample_pre_reminder_lists_no_overdue_invoice(relance, tmp_path):
    out = preview_pre_reminder(relance, tmp_path)
    assert "FA-2026-0142" in out
    assert "FA-2026-0101" not in out and "FA-2026-0117" not in out


def test_preview_of_a_case_lists_exactly_what_the_cycle_drafts(relance, tmp_path):
    csv = tmp_path / "invoices.csv"
    csv.write_text(INVOICES, encoding="utf-8")
    relance("import", "invoices", str(csv), "--creditor", "atelier-bois")
    relance("cycle", "--date", DAY, "--creditor", "atelier-bois")
    [draft] = as_json(relance("drafts", "list", "--json"))
    shown = as_json(relance("drafts", "show", str(draft["id"]), "--json"))
    ref = draft["case"]
    preview = relance(
        "policy", "preview", "atelier-bois", "--step", "reminder_1", "--case", ref, "--date", DAY
    ).stdout
    for number in ("FA-OLD", "FA-SOON", "FA-PAID"):
        assert (number in preview) == (number in shown["body_text"]), number
    assert "FA-OLD" in preview and "FA-SOON" not in preview
    # A pre-reminder of the same case (new policy not yet live) lists only what is not yet due.
    pre = preview_pre_reminder(relance, tmp_path, "--case", ref)
    assert "FA-SOON" in pre and "FA-OLD" not in pre


def test_a_first_letter_at_reminder_2_for_an_old_debt_does_not_claim_earlier_reminders(
    relance, tmp_path
):
    # atelier-bois starts debts 120+ days late at reminder_2: the first letter ever sent.
    csv = tmp_path / "old.csv"
    csv.write_text(
        "debtor_ref;debtor_name;debtor_email;invoice_number;issue_date;due_date;amount;outstanding\n"
        "C9;Auto-École Martin;compta@auto-ecole.example;FA-VIEILLE;2026-05-01;2026-06-30;"
        "700,00;700,00\n",
        encoding="utf-8",
    )
    relance("import", "invoices", str(csv), "--creditor", "atelier-bois")
    relance("cycle", "--date", DAY, "--creditor", "atelier-bois")
    [draft] = as_json(relance("drafts", "list", "--json"))
    assert draft["step"] == "reminder_2"
    shown = as_json(relance("drafts", "show", str(draft["id"]), "--json"))
    assert shown["subject"].startswith(f"[{draft['case']}] Relance —")
    assert "malgré" not in shown["body_text"].lower()
    assert "À l'attention d'Auto-École Martin" in shown["body_text"]


def test_check_refuses_a_siren_of_eight_digits_at_its_line(relance, tmp_path):
    text = ATELIER.replace('siren: "512345679"', 'siren: "51234567"')
    result = relance("policy", "check", str(policy_file(tmp_path, text)), "--json", code=1)
    [entry] = as_json(result)["files"]
    [error] = entry["errors"]
    assert (error["field"], error["line"]) == ("creditor.siren", line_of(text, '"51234567"'))
    assert "9 digits" in error["message"]


def test_check_warns_of_a_siren_siret_or_vat_number_with_a_wrong_checksum(relance, tmp_path):
    text = ATELIER.replace('siren: "834567893"', 'siren: "834567890"').replace(
        '  siren: "512345679"\n',
        '  siren: "512345679"\n  siret: "51234567900011"\n  vat_number: "FR00512345679"\n',
    )
    result = relance("policy", "check", str(policy_file(tmp_path, text)), "--json")
    [entry] = as_json(result)["files"]
    assert entry["ok"]  # well-formed numbers: a likely typo to check, not a broken policy
    warnings = {w["field"]: w for w in entry["warnings"]}
    assert {"agency.siren", "creditor.siret", "creditor.vat_number"} <= set(warnings)
    assert "checksum" in warnings["agency.siren"]["message"]
    assert warnings["creditor.siret"]["line"] == line_of(text, "51234567900011")
    # (12 + 3 × (512345679 mod 97)) mod 97 = (12 + 3 × 21) mod 97 = 75
    assert "key for SIREN 512345679 is 75" in warnings["creditor.vat_number"]["message"]


def test_check_accepts_valid_numbers_and_la_poste_sirets(relance, tmp_path):
    text = ATELIER.replace(
        '  siren: "512345679"\n',
        '  siren: "512345679"\n  siret: "512 345 679 00017"\n  vat_number: "FR75512345679"\n',
    ).replace('siren: "834567893"', 'siren: "356000000"\n  siret: "35600000049837"')
    result = relance("policy", "check", str(policy_file(tmp_path, text)), "--json")
    assert as_json(result)["files"][0]["ok"]


def test_check_reports_a_missing_template_with_the_other_errors_in_one_run(relance, tmp_path):
    text = ATELIER.replace("template: reminder_2,", "template: reminder_deux,").replace(
        "deadline_days: 8", "deadline_days: 800"
    )
    assert "deadline_days: 800" in text
    result = relance("policy", "check", str(policy_file(tmp_path, text)), "--json", code=1)
    [entry] = as_json(result)["files"]
    fields = [e["field"] for e in entry["errors"]]
    assert "ladder.steps[1].template" in fields
    assert any(f.endswith("deadline_days") for f in fields)
    [template] = [e for e in entry["errors"] if e["field"] == "ladder.steps[1].template"]
    assert template["line"] == line_of(text, "reminder_deux")


def test_preview_of_a_uk_policy_uses_a_sample_in_pounds_with_the_statutory_bands(relance):
    out = relance(
        "policy", "preview", "thames-supplies", "--step", "reminder_3", "--date", DAY
    ).stdout
    assert "€" not in out and "EUR" not in out
    assert "SARL" not in out and "Lyon" not in out
    assert "£1,250.00" in out and "£480.50" in out
    # Late Payment Act fixed sums: £70 on £1,000 to £9,999.99, £40 below £1,000.
    assert "compensation £70.00" in out and "compensation £40.00" in out


def test_interest_in_a_previewed_letter_follows_the_payments_made(relance, tmp_path):
    invoices = tmp_path / "invoices.csv"
    invoices.write_text(
        "debtor_ref;debtor_name;debtor_email;invoice_number;issue_date;due_date;amount;outstanding\n"
        "C1;Scierie Leduc SARL;compta@leduc.example;FA-PART;2026-08-28;2026-09-27;"
        "1000,00;1000,00\n",
        encoding="utf-8",
    )
    payments = tmp_path / "payments.csv"
    payments.write_text(
        "Date de règlement;Code client;N° facture;Montant réglé;Référence paiement\n"
        "27/10/2026;C1;FA-PART;600,00;VIR-1\n",
        encoding="utf-8",
    )
    relance("import", "invoices", str(invoices), "--creditor", "atelier-bois")
    relance("import", "payments", str(payments), "--creditor", "atelier-bois")
    relance("cycle", "--date", DAY, "--creditor", "atelier-bois")
    [draft] = as_json(relance("drafts", "list", "--json"))
    args = ("--step", "reminder_3", "--case", draft["case"], "--date", DAY)
    preview = relance("policy", "preview", "atelier-bois", *args).stdout
    # Due 27/09/2026 (2026 H2: 2.15 % + 10 = 12.15 %), 600 paid on 27/10, letter on 26/11:
    # 1 000 × 12.15 % × 30 / 365 = 9.986 30 + 400 × 12.15 % × 30 / 365 = 3.994 52 → 13,98 €
    # (not 400 × 12.15 % × 60 / 365 = 7,99 € on today's balance over the whole period).
    assert "13,98 €" in preview and "7,99 €" not in preview
    assert "Total restant dû : 400,00 €" in preview
