"""Measure the reply extractor: our .eml corpus, the shared peer suite, and throughput.

Usage (from the repository root):

    .venv/bin/python bench/reply_text_eval.py [--peers-dir PATH]

The peer suite (149 pairs copied from 9 open-source reply parsers, see its SOURCES.md) is
not part of this repository: give its folder with ``--peers-dir`` or
``RELANCE_REPLY_QUOTES_DIR``. Its own scorer's ``load_cases``/``norm``/``similarity`` are
imported so the metrics are the same as its ``score_peers.py --candidate
assistant.mailparse.reply_text:extract_reply``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.mailparse.mime import parse_message  # noqa: E402
from assistant.mailparse.reply_text import extract_reply, split_reply  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "emails"
DEFAULT_PEERS = Path(os.environ.get("RELANCE_REPLY_QUOTES_DIR", "reply-quotes"))


def corpus_figures() -> tuple[list[str], dict[str, float]]:
    """Return corpus plain texts and exact-match figures."""
    texts, exact, misses = [], 0, []
    emls = sorted(CORPUS.glob("*.eml"))
    for path in emls:
        expected = path.with_suffix(".expected.txt").read_text(encoding="utf-8").strip()
        text = parse_message(path.read_bytes()).text
        texts.append(text)
        if extract_reply(text).strip() == expected:
            exact += 1
        else:
            misses.append(path.stem)
    n = len(emls)
    for name in misses:
        print(f"  corpus miss: {name}")
    return texts, {"n": n, "exact": exact, "rate": exact / n if n else 0.0}


def load_scorer(peers_dir: Path):
    spec = importlib.util.spec_from_file_location("score_peers", peers_dir / "score_peers.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(peers_dir / "score_peers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def peer_figures(sp, cases, keep_signoff: bool) -> dict[str, float]:
    """Score one sign-off policy on the peer suite with the suite's own metrics."""
    n = len(cases)
    exact = soft = fr_exact = fr_n = 0
    for case in cases:
        out = split_reply(case["text"], keep_signoff=keep_signoff).reply
        is_exact = sp.norm(out) == sp.norm(case["expected_text"])
        exact += is_exact
        soft += sp.similarity(out, case["expected_text"]) >= sp.SOFT_THRESHOLD
        if "fr" in case["lang"]:
            fr_n += 1
            fr_exact += is_exact
    return {
        "n": n,
        "exact": exact,
        "soft": soft,
        "soft_rate": soft / n,
        "fr_exact": fr_exact,
        "fr_n": fr_n,
    }


def throughput(texts: list[str], seconds: float = 1.0) -> float:
    """Return extract_reply calls per second over ``texts``."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for text in texts:
            extract_reply(text)
        done += len(texts)
    return done / (time.perf_counter() - start)


def parse_throughput(raws: list[bytes], seconds: float = 1.0) -> float:
    """Return parse_message + extract_reply per second over raw messages."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for raw in raws:
            extract_reply(parse_message(raw).text)
        done += len(raws)
    return done / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peers-dir", type=Path, default=DEFAULT_PEERS)
    args = ap.parse_args(argv)

    texts, corpus = corpus_figures()
    print(
        f"corpus tests/fixtures/emails: n={corpus['n']} exact={corpus['exact']} rate={corpus['rate']:.3f}"
    )

    peer_texts: list[str] = []
    if (args.peers_dir / "score_peers.py").exists():
        sp = load_scorer(args.peers_dir)
        cases = sp.load_cases(str(args.peers_dir))
        peer_texts = [c["text"] for c in cases]
        for label, keep in (("keep sign-off (default)", True), ("strip sign-off", False)):
            f = peer_figures(sp, cases, keep)
            print(
                f"peer suite [{label}]: n={f['n']} soft={f['soft']} ({f['soft_rate']:.3f}) "
                f"exact={f['exact']} ({f['exact'] / f['n']:.3f}) french exact={f['fr_exact']}/{f['fr_n']}"
            )
    else:
        print(f"peer suite not found at {args.peers_dir}; skipped")

    raws = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
    print(f"throughput extract_reply: {throughput(texts + peer_texts):,.0f} messages/s")
    print(
        f"throughput parse_message+extract_reply (corpus .eml): {parse_throughput(raws):,.0f} messages/s"
    )


if __name__ == "__main__":
    main()
