"""The officer's triage queue, end to end through real mail servers and the CLI: a reminder is
sent (aiosmtpd), the debtor answers (APPENDed to Dovecot), `relance fetch` reads it; a reply
Relance is unsure of changes nothing until `relance replies review ID …` confirms or corrects
it; a possibly sensitive one is handed off at once; corrections retrain the model."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlmodel import select
from typer.testing import CliRunner

from assistant.cli.main import app as relance
from assistant.db.engine import session_scope
from assistant.db.models import Case, Handoff, Promise
from assistant.db.reply_models import ReplyReview
from assistant.replies.model import load_model
from tests.e2e.test_reply_loop import NOW, answer, send_first_reminder
from tests.integration import servers

pytestmark = pytest.mark.integration

dovecot = servers.dovecot
imap_account = servers.imap_account
smtp_server = servers.smtp_server
mail_app = servers.mail_app


@pytest.fixture
def run(mail_app, tmp_path, monkeypatch):
    """Invoke `relance` with the same settings as `mail_app`, from the environment."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    s = mail_app.settings
    env = {
        "DATABASE_URL": s.database_url,
        "POLICIES_DIR": str(s.policies_dir),
        "TEMPLATES_DIR": str(s.templates_dir),
        "SMTP_HOST": s.smtp_host,
        "SMTP_PORT": str(s.smtp_port),
        "SMTP_SECURITY": "none",
        "SMTP_FROM": s.smtp_from,
        "REPLY_TO": s.reply_to,
        "IMAP_HOST": s.imap_host,
        "IMAP_PORT": str(s.imap_port),
        "IMAP_SECURITY": "none",
        "IMAP_USERNAME": s.imap_username,
        "IMAP_PASSWORD": s.imap_password.get_secret_value(),
        "IMAP_PROCESSED_FOLDER": "Processed",
    }
    for key, value in env.items():
        monkeypatch.setenv(f"RELANCE_{key}", value)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(relance, ["--as", "alice", *args], catch_exceptions=False)
        return result

    return invoke


def debtor_says(mail_app, smtp_server, imap_account, body: str) -> str:
    ref, sent = send_first_reminder(mail_app, smtp_server)
    client = imap_account.client()
    client.append("INBOX", answer(sent, body, when=NOW.replace(hour=14)))
    client.logout()
    return ref


def case_state(app, ref: str) -> tuple[str, list[Promise], list[Handoff]]:
    with session_scope(app.engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        promises = list(s.exec(select(Promise).where(Promise.case_id == case.id)))
        handoffs = list(s.exec(select(Handoff).where(Handoff.case_id == case.id)))
        return case.status, promises, handoffs


def test_an_unsure_reply_waits_for_the_officer_then_the_correction_applies(
    mail_app, smtp_server, imap_account, run, tmp_path
):
    ref = debtor_says(
        mail_app,
        smtp_server,
        imap_account,
        "Bonjour,\n\non s'en occupe la semaine prochaine.\n\nPaul",
    )
    status_before, _, _ = case_state(mail_app, ref)

    fetched = run("fetch", "--json")

    assert fetched.exit_code == 0, fetched.output
    status, promises, handoffs = case_state(mail_app, ref)
    assert (status, promises, handoffs) == (status_before, [], [])  # nothing changed yet
    queue = json.loads(run("replies", "review", "--json").output)
    [item] = queue
    assert item["case"] == ref and item["intent"] == "promise_to_pay"
    assert item["evidence"] and all(e in item["reply_text"] for e in item["evidence"])

    bad = run("replies", "review", str(item["id"]), "--intent", "promise_to_pay",
              "--promise-amount", "mille")  # fmt: skip
    assert bad.exit_code == 1 and "not a number" in bad.output
    assert case_state(mail_app, ref) == (status_before, [], [])  # nothing half-written
    done = run(
        "replies", "review", str(item["id"]), "--intent", "promise_to_pay",
        "--promise-amount", "1730.50", "--promise-date", "2026-12-04", "--json",
    )  # fmt: skip

    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["promise_id"] is not None
    status, [promise], handoffs = case_state(mail_app, ref)
    assert status == "promise" and handoffs == []
    assert (promise.due_on, promise.amount_cents) == (date(2026, 12, 4), 173050)
    assert json.loads(run("replies", "review", "--json").output) == []
    again = run("replies", "review", str(item["id"]), "--confirm")
    assert again.exit_code == 1 and "already reviewed" in again.output
    with session_scope(mail_app.engine) as s:
        [label] = s.exec(select(ReplyReview)).all()
    assert (label.status, label.intent, label.officer) == ("corrected", "promise_to_pay", "alice")

    corpus = tiny_corpus(tmp_path / "corpus")
    out = tmp_path / "model.npz"
    trained = run(
        "replies", "train", "--with-corrections", "--corpus", str(corpus), "--out", str(out)
    )
    assert trained.exit_code == 0, trained.output
    assert "(1 officer corrections)" in trained.output
    assert load_model(out).meta["examples"] == 7


def test_a_possibly_sensitive_reply_stops_dunning_at_once_and_is_queued(
    mail_app, smtp_server, imap_account, run, tmp_path, monkeypatch
):
    # a model that never saw a dispute reads a promise; the rules see the dispute: unsure
    model = tmp_path / "model.npz"
    assert (
        run(
            "replies", "train", "--corpus", str(tiny_corpus(tmp_path / "c")), "--out", str(model)
        ).exit_code
        == 0
    )
    monkeypatch.setenv("RELANCE_REPLY_MODEL", str(model))
    ref = debtor_says(
        mail_app,
        smtp_server,
        imap_account,
        "Bonjour,\n\nNous réglerons la facture vendredi par virement, mais la moitié des pièces "
        "livrées étaient défectueuses.\n\nPaul",
    )

    assert run("fetch").exit_code == 0

    status, promises, [handoff] = case_state(mail_app, ref)
    assert status == "handoff" and promises == []  # dunning stopped before any officer looked
    [item] = json.loads(run("replies", "review", "--json").output)
    assert item["handed_off"] is True and "dispute" in [item["intent"], *item["also"]]

    ok = run("replies", "review", str(item["id"]), "--intent", "promise_to_pay")

    assert ok.exit_code == 0, ok.output
    status, [promise], handoffs = case_state(mail_app, ref)
    assert handoffs == [handoff] and status == "handoff"  # the officer's hand-off stands
    assert promise.due_on.weekday() == 4  # "vendredi": the Friday after the reply arrived


def tiny_corpus(folder: Path) -> Path:
    """Write a six-reply labelled corpus (three intents) in the corpus folder format."""
    from email.message import EmailMessage

    folder.mkdir()
    texts = [
        ("promise_to_pay", "Nous réglerons la facture vendredi par virement."),
        ("promise_to_pay", "Le paiement partira demain, merci de patienter."),
        ("claims_paid", "La facture a été payée le 3, voici la preuve du virement."),
        ("claims_paid", "Nous avons déjà réglé cette facture par chèque."),
        ("request_info", "Pouvez-vous nous envoyer une copie de la facture ?"),
        ("request_info", "Merci de nous transmettre votre RIB et un relevé de compte."),
    ]
    labels = []
    for n, (intent, text) in enumerate(texts):
        m = EmailMessage()
        m["From"] = "debiteur@example.com"
        m["Date"] = "Thu, 26 Nov 2026 15:00:00 +0100"
        m["Subject"] = "RE: relance"
        m.set_content(text)
        name = f"r{n}.eml"
        (folder / name).write_bytes(bytes(m))
        labels.append({"file": name, "intent": intent, "needs_human": False})
    (folder / "labels.yaml").write_text(yaml.safe_dump(labels), encoding="utf-8")
    return folder
