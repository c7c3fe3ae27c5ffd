"""A broken policy is reported with its file, the line of the mistake and the field."""

from __future__ import annotations

import pytest

from assistant.policy.loader import PolicyError, PolicyIssue, parse_policy

FILE = "policies/broken.yaml"

# Line numbers below count from 1 in this text.
VALID = """\
version: 1
creditor:
  slug: test-co
  name: Test Co SAS
  address: 1 rue du Test, 75001 Paris
voice:
  sign_off: Cordialement,
ladder:
  steps:
    - {name: reminder_1, days_after_due: 5, template: reminder_1}
    - {name: reminder_2, days_after_due: 15, template: reminder_2}
"""


def issues_of(text: str) -> list[PolicyIssue]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, FILE)
    assert str(caught.value), "the error message lists the issues"
    return caught.value.issues


def the_issue(issues: list[PolicyIssue], field: str) -> PolicyIssue:
    matching = [i for i in issues if i.field == field]
    assert matching, f"no issue on {field!r}: {[str(i) for i in issues]}"
    return matching[0]


def test_the_base_text_is_valid() -> None:
    assert parse_policy(VALID, FILE).slug == "test-co"


def test_bad_indentation_names_the_line_of_the_misplaced_key() -> None:
    text = VALID.replace("  name: Test Co SAS\n", "   name: Test Co SAS\n")
    [issue] = issues_of(text)
    assert (issue.file, issue.line) == (FILE, 4)
    assert "invalid YAML" in issue.message
    assert str(issue).startswith(f"{FILE}:4: ")


def test_a_key_that_leaves_its_block_names_its_line() -> None:
    text = VALID.replace(
        "  sign_off: Cordialement,\n", "  sign_off: Cordialement,\n signature: [x]\n"
    )
    [issue] = issues_of(text)
    assert (issue.file, issue.line) == (FILE, 8)
    assert "invalid YAML" in issue.message


def test_unknown_field_names_its_line_and_path() -> None:
    text = VALID.replace(
        "  sign_off: Cordialement,\n", "  sign_off: Cordialement,\n  sign_of: Bye\n"
    )
    [issue] = issues_of(text)
    assert (issue.file, issue.line, issue.field) == (FILE, 8, "voice.sign_of")
    assert "unknown field" in issue.message


def test_misspelt_required_field_gives_two_issues() -> None:
    issues = issues_of(VALID.replace("  sign_off:", "  sign_of:"))
    assert the_issue(issues, "voice.sign_of").line == 7
    missing = the_issue(issues, "voice.sign_off")
    assert missing.line == 6 and "required" in missing.message.lower()


def test_wrong_type_names_the_step_and_its_line() -> None:
    issues = issues_of(VALID.replace("days_after_due: 15,", "days_after_due: fifteen,"))
    issue = the_issue(issues, "ladder.steps[1].days_after_due")
    assert issue.line == 11
    assert "integer" in issue.message


def test_wrong_type_of_a_top_level_amount() -> None:
    issue = the_issue(issues_of(VALID + "minimum_amount: lots\n"), "minimum_amount")
    assert issue.line == 12


def test_steps_out_of_order_name_both_steps_at_the_later_one() -> None:
    issue = the_issue(
        issues_of(VALID.replace("days_after_due: 15,", "days_after_due: 2,")),
        "ladder.steps[1].days_after_due",
    )
    assert issue.line == 11
    assert "increasing" in issue.message
    assert "'reminder_2'" in issue.message and "'reminder_1'" in issue.message


def test_fixed_rate_without_rate_points_at_late_interest() -> None:
    text = VALID + "terms:\n  payment_terms_days: 30\n  late_interest:\n    rule: fixed\n"
    issue = the_issue(issues_of(text), "terms.late_interest")
    assert issue.line == 14
    assert "rate is required" in issue.message


def test_rate_with_a_non_fixed_rule_is_refused() -> None:
    text = VALID + "terms:\n  late_interest: {rule: ecb_plus_10, rate: 12}\n"
    issue = the_issue(issues_of(text), "terms.late_interest")
    assert issue.line == 13


def test_unknown_old_debts_step_points_at_the_ladder() -> None:
    text = VALID + "  old_debts: {days_overdue: 90, start_at: reminder_9}\n"
    issue = the_issue(issues_of(text), "ladder.old_debts.start_at")
    assert issue.line == 12 and "reminder_9" in issue.message


# Policy-wide checks are raised by a model validator on the whole Policy, so the loader can
# only place them on line 1 with no field; the right place is the offending key.
def test_agency_mode_without_agency_block_names_mode() -> None:
    issues = issues_of(VALID + "mode: agency\n")
    assert any(i.line == 12 and i.field in {"mode", "agency"} for i in issues), issues


def test_agency_mode_without_agency_block_is_refused() -> None:
    [issue] = issues_of(VALID + "mode: agency\n")
    assert issue.file == FILE and "agency" in issue.message


def test_unknown_step_in_history_tone_names_its_line() -> None:
    text = VALID + "history_tone:\n  min_paid_invoices: 3\n  courteous_at_steps: [reminder_9]\n"
    issue = the_issue(issues_of(text), "history_tone.courteous_at_steps")
    assert issue.line == 14


def test_unknown_step_in_history_tone_is_refused() -> None:
    text = VALID + "history_tone:\n  min_paid_invoices: 3\n  courteous_at_steps: [reminder_9]\n"
    [issue] = issues_of(text)
    assert "reminder_9" in issue.message and "courteous_at_steps" in issue.message


def test_every_mistake_is_reported_at_once() -> None:
    text = VALID.replace("slug: test-co", "slug: Test Co").replace(
        "days_after_due: 15,", "days_after_due: 900,"
    )
    issues = issues_of(text + "contact_cap: {max_messages: 0}\n")
    fields = {i.field: i.line for i in issues}
    assert fields == {
        "creditor.slug": 3,
        "ladder.steps[1].days_after_due": 11,
        "contact_cap.max_messages": 12,
    }


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    [issue] = issues_of("- just\n- a list\n")
    assert (issue.file, issue.line) == (FILE, 1)


def test_a_duplicated_step_name_points_at_the_second_step() -> None:
    text = VALID.replace("name: reminder_2,", "name: reminder_1,")
    issue = the_issue(issues_of(text), "ladder.steps[1].name")
    assert issue.line == 11 and "'reminder_1'" in issue.message


def test_an_unknown_time_zone_is_refused_at_its_line() -> None:
    issue = the_issue(
        issues_of(VALID + "sending:\n  timezone: Europe/Pariss\n"), "sending.timezone"
    )
    assert issue.line == 13
    assert "Europe/Pariss" in issue.message and "Europe/Paris" in issue.message


def test_an_unquoted_time_read_as_seconds_by_yaml_is_refused_at_its_line() -> None:
    # YAML 1.1 reads 9:00 as the sexagesimal number 540: it must not become 00:09.
    issue = the_issue(issues_of(VALID + "sending:\n  start: 9:00\n"), "sending.start")
    assert issue.line == 13
    assert '"09:00"' in issue.message and "540" in issue.message


def test_a_time_that_is_not_hh_mm_is_refused() -> None:
    issue = the_issue(issues_of(VALID + 'sending:\n  end: "18h"\n'), "sending.end")
    assert issue.line == 13 and "HH:MM" in issue.message


def test_quoted_times_are_read_as_times_of_day() -> None:
    pol = parse_policy(VALID + 'sending:\n  start: "08:30"\n  daily_cycle_at: "7:05"\n', FILE)
    assert (pol.sending.start.hour, pol.sending.start.minute) == (8, 30)
    assert (pol.sending.daily_cycle_at.hour, pol.sending.daily_cycle_at.minute) == (7, 5)


def test_an_iban_with_a_wrong_checksum_is_refused() -> None:
    good = VALID.replace(
        "  address: 1 rue du Test, 75001 Paris\n",
        "  address: 1 rue du Test, 75001 Paris\n  iban: FR76 3000 6000 0112 3456 7890 189\n",
    )
    assert parse_policy(good, FILE).creditor.iban
    issue = the_issue(issues_of(good.replace("7890 189", "7890 188")), "creditor.iban")
    assert issue.line == 6 and "checksum" in issue.message


def test_an_invalid_creditor_email_is_refused() -> None:
    text = VALID.replace(
        "  address: 1 rue du Test, 75001 Paris\n",
        "  address: 1 rue du Test, 75001 Paris\n  email: compta@@test-co\n",
    )
    issue = the_issue(issues_of(text), "creditor.email")
    assert issue.line == 6 and "email" in issue.message


def test_indemnity_bands_out_of_order_are_refused() -> None:
    text = VALID + (
        "terms:\n  indemnity_bands:\n    - {below: 10000, amount: 70}\n"
        "    - {below: 1000, amount: 40}\n    - {amount: 100}\n"
    )
    issue = the_issue(issues_of(text), "terms.indemnity_bands[1].below")
    assert issue.line == 15
