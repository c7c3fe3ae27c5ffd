"""Benchmark: LLM drafting throughput against a scripted endpoint that waits per call.

    python bench/llm_drafting.py [--drafts 200] [--delay 0.5] [--concurrency 16]

Runs the real path (prompt rendering, ChatOpenAI over loopback HTTP, call log in SQLite,
grounding and validator checks, template composition) and prints wall time, drafts per
second, tokens per draft and the ideal time (drafts x delay / concurrency). Aim: within 25 %.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.db.engine import create_schema, make_engine  # noqa: E402
from assistant.domain import CaseState, ClientHistory, DebtorFacts, InvoiceLine  # noqa: E402
from assistant.drafting import DraftRequest, LLMDrafter, ThreadMessage  # noqa: E402
from assistant.letters.rates import RateTable  # noqa: E402
from assistant.letters.render import LetterRenderer  # noqa: E402
from assistant.llm import LLMClient, PromptLibrary  # noqa: E402
from assistant.policy import load_policies  # noqa: E402
from tests.integration.llm_server import Reply, ScriptedLLMServer, estimated_usage  # noqa: E402

ON = date(2026, 11, 26)
PROSE = {
    "opening": "Nous revenons vers vous au sujet des factures rappelées ci-dessous, dont nous "
    "n'avons pas encore reçu le règlement.",
    "body": [
        "Votre historique de paiement est bon et nous pensons qu'il s'agit d'un simple oubli.",
        "Si le règlement est déjà parti, merci de ne pas tenir compte de ce message.",
    ],
    "closing": "Nous restons disponibles pour en parler par téléphone si un point bloque.",
}


def requests(n: int) -> list[DraftRequest]:
    """Build `n` distinct cases of the shipped agency policy, at the second reminder."""
    policy = load_policies(ROOT / "policies")["atelier-bois"]
    step = policy.step("reminder_2")
    out = []
    for i in range(1, n + 1):
        invoices = [
            InvoiceLine(
                f"FA-2026-{i:04d}{k}",
                ON - timedelta(days=18 + k),
                Decimal(300 + 7 * i + k),
                Decimal(300 + 7 * i + k),
            )
            for k in range(1 + i % 3)
        ]
        out.append(
            DraftRequest(
                policy=policy,
                step=step,
                debtor=DebtorFacts(
                    f"C{i:04d}", f"Client {i} SARL", emails=(f"compta@client{i}.example",)
                ),
                case=CaseState(
                    ref=f"REF-{i:04d}", step_index=0, last_contact_on=ON - timedelta(days=9)
                ),
                invoices=invoices,
                history=ClientHistory(paid_invoices=i % 9, on_time_rate=(i % 10) / 10),
                on=ON,
                case_id=i,
                thread=(
                    ThreadMessage(
                        "debtor",
                        f"Bonjour, nous regardons la facture du client {i}.",
                        ON - timedelta(days=4),
                    ),
                ),
            )
        )
    return out


class _Endpoint:
    """The scripted endpoint, in its own process (default) or in this one (`--in-process`)."""

    def __init__(self, delay: float, in_process: bool):
        self.delay, self.in_process = delay, in_process
        self.proc: subprocess.Popen[str] | None = None
        self.server: ScriptedLLMServer | None = None

    def __enter__(self) -> str:
        if self.in_process:
            self.server = ScriptedLLMServer(
                lambda req: Reply(data=PROSE, delay=self.delay, usage=estimated_usage(req, PROSE))
            ).start()
            return self.server.base_url
        cmd = [sys.executable, "-m", "tests.integration.llm_server", "--data", json.dumps(PROSE)]
        cmd += ["--delay", str(self.delay)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "READY":
            raise RuntimeError("the scripted endpoint did not start")
        return line[1]

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.stop()
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the endpoint in this process (shares the GIL)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, _Endpoint(args.delay, args.in_process) as base_url:
        url = f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        create_schema(engine)
        settings = Settings(
            database_url=url,
            OPENAI_BASE_URL=base_url,
            llm_model="scripted",
            llm_max_concurrency=args.concurrency,
            llm_daily_token_budget=0,  # no limit for the benchmark
            _env_file=None,
        )  # type: ignore[call-arg]
        client = LLMClient(settings, engine)
        drafter = LLMDrafter(
            client,
            PromptLibrary(ROOT / "prompts"),
            LetterRenderer(ROOT / "templates", RateTable.packaged()),
        )
        batch = requests(args.drafts)
        client.chat_model()  # LangChain import and client set-up are not part of the figure
        started = time.perf_counter()
        results = asyncio.run(drafter.draft_many(batch))
        wall = time.perf_counter() - started
        calls = len(results) + sum(len(r.call_ids) - 1 for r in results if r.call_ids)
        engine.dispose()

    llm = sum(1 for r in results if r.engine == "llm")
    tokens = sum(r.tokens for r in results)
    ideal = args.drafts * args.delay / args.concurrency
    where = "in this process" if args.in_process else "in its own process"
    print(f"endpoint:          scripted, {args.delay} s per call, {where}")
    print(
        f"drafts:            {len(results)} ({llm} by the model, {len(results) - llm} template fallbacks)"
    )
    print(f"model calls:       {calls} (concurrency {args.concurrency})")
    print(f"wall time:         {wall:.2f} s")
    print(f"drafts per second: {len(results) / wall:.1f}")
    print(f"tokens per draft:  {tokens / max(1, len(results)):.0f}")
    print(f"ideal:             {ideal:.2f} s ({args.drafts} x {args.delay} s / {args.concurrency})")
    print(f"overhead:          {(wall / ideal - 1) * 100:+.1f} % (aim: within 25 %)")


if __name__ == "__main__":
    main()
