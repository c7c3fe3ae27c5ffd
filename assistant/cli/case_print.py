"""Print one case for a person: sections with labels, amounts and dates in the policy's locale."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.cli.attest import print_claim
from assistant.cli.common import console
from assistant.cli.present import day, money, table


def _line(text: str) -> None:
    console.print(text, highlight=False, markup=False)


def _section(title: str) -> None:
    console.print(f"\n[bold]{title}[/]", highlight=False)


def print_case(data: dict[str, Any], loc: str) -> None:
    """Print `case_details` as readable sections (never a raw dict)."""
    d = data["debtor"]
    currency = next((i["currency"] for i in data["invoices"]), "EUR")
    console.rule(f"{data['ref']} — {d['name']} ({d['ref']}) — {data['creditor']}", style="bold")
    _line(
        f"Status: {data['status']}   step: {data['step'] or '—'}   "
        f"last contact: {day(data['last_contact'], loc)}   "
        f"balance: {money(data['balance'], currency, loc)}"
    )
    if data.get("insolvency"):
        print_claim(data["insolvency"], loc)
    _contacts(data["contacts"])
    _history(data["history"])
    _invoices(data["invoices"], loc)
    _drafts(data["drafts"])
    _promises(data["promises"], currency, loc)
    _plans(data.get("plans") or [], loc)
    _handoffs(data["handoffs"], loc)
    _tasks(data["tasks"])
    _journal(data.get("journal") or [], loc)
    _replies(data["messages"], loc)


def _contacts(contacts: list[dict[str, Any]]) -> None:
    labels = {"valid": "", "to_confirm": " (to confirm)", "invalid": " (invalid)"}
    shown = [
        c["email"] + labels.get(c.get("state", "valid" if c["valid"] else "invalid"), "")
        for c in contacts
    ]
    _line("Contacts: " + (", ".join(shown) or "none"))


def _history(h: dict[str, Any]) -> None:
    rate = "—" if h["on_time_rate"] is None else f"{h['on_time_rate']:.0%}"
    late = "—" if h["average_days_late"] is None else f"{h['average_days_late']:.1f}"
    _line(
        f"History (12 months): {h['paid_invoices']} paid, on time {rate}, "
        f"average days late {late}, promises kept {h['promises_kept']} / broken "
        f"{h['promises_broken']}, open disputes {h['open_disputes']}"
    )


def _invoices(invoices: list[dict[str, Any]], loc: str) -> None:
    out = table("invoice", "due", "amount", "outstanding", "status", "days late")
    for i in invoices:
        out.add_row(
            i["number"], day(i["due_date"], loc), money(i["amount"], i["currency"], loc),
            money(i["outstanding"], i["currency"], loc), i["status"],
            "" if i["days_late"] is None else str(i["days_late"]),
        )  # fmt: skip
    console.print(out)


def _drafts(drafts: list[dict[str, Any]]) -> None:
    if drafts:
        _section("Drafts")
        for x in drafts:
            _line(f"  #{x['id']} {x['step']} — {x['status']} ({x['engine']}): {x['subject']}")


def _promises(promises: list[dict[str, Any]], currency: str, loc: str) -> None:
    if promises:
        _section("Promises")
        for x in promises:
            amount = (
                "the balance"
                if x["amount"] is None
                else money(x["amount"], x["currency"] or currency, loc)
            )
            via = f" (via {x['source']})" if x.get("source") else ""
            _line(f"  #{x['id']} {amount} by {day(x['due_on'], loc)} — {x['status']}{via}")


def _plans(plans: list[dict[str, Any]], loc: str) -> None:
    if plans:
        _section("Payment plans")
        for p in plans:
            kept = sum(1 for i in p["instalments"] if i["status"] == "kept")
            _line(
                f"  plan #{p['id']} — {p['status']}: {money(p['total'], p['currency'], loc)} in "
                f"{len(p['instalments'])} instalment(s), {kept} kept, next due "
                f"{day(p['next_due'], loc)}"
            )


def _handoffs(handoffs: list[dict[str, Any]], loc: str) -> None:
    if handoffs:
        _section("Hand-offs")
        for x in handoffs:
            _line(f"  #{x['id']} {x['reason']} — {x['status']} since {day(x['created_at'], loc)}")
            _line(f"    {x['summary']}")
            for quote in x["evidence"] or []:
                _line(f"    « {quote} »")


def _tasks(tasks: list[dict[str, Any]]) -> None:
    if tasks:
        _section("Tasks")
        for x in tasks:
            _line(f"  #{x['id']} {x['kind']} — {x['status']}: {x['detail']}")


def _journal(entries: list[dict[str, Any]], loc: str) -> None:
    if entries:
        _section("Notes and calls")
        for e in entries:
            what = f"call ({e['outcome']})" if e["kind"] == "call" else "note"
            text = f": {e['text']}" if e["text"] else ""
            _line(f"  {day(e['at'], loc)} {what} by {e['actor']}{text}")


def _replies(messages: list[dict[str, Any]], loc: str) -> None:
    if messages:
        _section("Replies")
        for x in messages:
            read = reading(x["analysis"])
            _line(f"  #{x['id']} {day(x['received_at'], loc)} from {x['from'] or '?'} "
                  f"[{x['status']}]" + (f" — {read}" if read else ""))  # fmt: skip
            if x["reply_text"]:
                _line("    " + x["reply_text"].strip().replace("\n", "\n    "))


def reading(analysis: Any) -> str:
    """Return the reply analyser's reading in words: intent, confidence, promise, evidence."""
    if not analysis:
        return ""
    if not isinstance(analysis, Mapping):
        return str(analysis)
    parts = [str(analysis.get("intent") or "?")]
    if analysis.get("confidence") is not None:
        parts.append(f"({float(analysis['confidence']):.0%})")
    if analysis.get("needs_human"):
        parts.append("needs a human")
    promise = analysis.get("promise")
    if isinstance(promise, Mapping) and promise.get("date"):
        amount = promise.get("amount")
        parts.append(f"promise {amount or 'balance'} by {promise['date']}")
    evidence = analysis.get("evidence")
    if evidence:
        quoted = evidence if isinstance(evidence, str) else " / ".join(map(str, evidence))
        parts.append(f"« {quoted} »")
    return " ".join(parts)
