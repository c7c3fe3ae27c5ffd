"""Generate a realistic sample portfolio as ERP exports: deterministic for a given seed.

`python examples/generate.py --out examples --as-of 2026-11-26` rewrites the committed sample;
`--debtors N --invoices M --out DIR` writes a larger portfolio (the benchmark uses it).
Standard library and openpyxl only: it never imports the `assistant` package nor touches a
database. Debtor names come from `vocabulary.json`; the file writers live in `erp_exports.py`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from types import ModuleType

CENT = Decimal("0.01")
FORMATS = ("sage_csv", "xlsx", "uk_csv")
DEFAULT_FORMATS: dict[str, str] = {
    "atelier-bois": "sage_csv",
    "distrib-pro": "xlsx",
    "thames-supplies": "uk_csv",
}
SAMPLE_DEBTORS = 240
SAMPLE_INVOICES = 1500
SAMPLE_AS_OF = date(2026, 11, 26)

# Open invoices: (bucket, lowest, highest days after due); negative = not yet due.
AGE_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("not_due", -30, -1),
    ("pre_due_5", -5, -5),
    ("just_due", 0, 2),
    ("late_3_10", 3, 10),
    ("late_20", 18, 22),
    ("late_35", 33, 37),
    ("late_50", 48, 52),
    ("late_70", 68, 72),
    ("late_150", 145, 155),
    ("late_11_60", 11, 60),
    ("late_61_120", 61, 120),
    ("old", 200, 330),
)
# Weights of the buckets above, per payer profile.
AGE_WEIGHTS: dict[str, tuple[float, ...]] = {
    "punctual": (60, 4, 6, 12, 5, 2, 1, 1, 0.5, 6, 1, 0.2),
    "average": (40, 3, 5, 14, 9, 6, 4, 3, 2, 10, 4, 1),
    "slow": (25, 2, 4, 12, 10, 9, 7, 6, 4, 12, 7, 2),
    "bad": (12, 1, 2, 8, 8, 9, 9, 9, 10, 10, 12, 10),
}
PROFILES = ("punctual", "average", "slow", "bad")
PROFILE_WEIGHTS = (35, 35, 20, 10)
OPEN_SHARE = {"punctual": 0.12, "average": 0.22, "slow": 0.32, "bad": 0.5}
ON_TIME = {"punctual": 0.93, "average": 0.65, "slow": 0.3, "bad": 0.1}
MAX_DELAY = {"punctual": 8, "average": 30, "slow": 60, "bad": 120}


@dataclass(frozen=True)
class Words:
    """The vocabulary fictitious names are built from (`vocabulary.json`)."""

    fr_trades: tuple[str, ...]
    fr_place_trades: tuple[str, ...]
    fr_places: tuple[str, ...]
    fr_brand_a: tuple[str, ...]
    fr_brand_b: tuple[str, ...]
    fr_forms: tuple[str, ...]
    fr_surnames: tuple[str, ...]
    fr_first: tuple[str, ...]
    fr_cities: tuple[str, ...]
    uk_prefixes: tuple[str, ...]
    uk_trades: tuple[str, ...]
    uk_surnames: tuple[str, ...]
    uk_towns: tuple[str, ...]


@cache
def words() -> Words:
    """Read the vocabulary that sits beside this file."""
    raw = json.loads((Path(__file__).with_name("vocabulary.json")).read_text(encoding="utf-8"))
    return Words(**{k: tuple(v) for k, v in raw.items() if not k.startswith("_")})


@dataclass(frozen=True)
class CreditorSpec:
    """What a creditor's ledger looks like: shares of the portfolio, amounts, numbering."""

    slug: str
    debtor_share: float
    invoice_share: float
    currency: str
    terms_days: tuple[int, ...]
    amount_median: float
    amount_sigma: float
    amount_max: int
    invoice_prefix: str
    credit_prefix: str
    uk: bool = False


SPECS: dict[str, CreditorSpec] = {
    "atelier-bois": CreditorSpec(
        "atelier-bois", 0.30, 0.28, "EUR", (30, 30, 45), 850, 0.95, 19000, "FA", "AV"
    ),
    "distrib-pro": CreditorSpec(
        "distrib-pro", 0.45, 0.48, "EUR", (45, 45, 30, 60), 1100, 1.05, 38000, "F", "AV"
    ),
    "thames-supplies": CreditorSpec(
        "thames-supplies", 0.25, 0.24, "GBP", (30,), 420, 0.9, 12000, "INV-", "CN-", uk=True
    ),
}

# distrib-pro: key accounts and the debtors that policies/distrib-pro.yaml overrides.
DISTRIB_KEY_ACCOUNTS = (
    ("GC001", "Groupe Bricomax SAS", "slow"),
    ("GC002", "Hypermarchés de l'Atlantique SA", "average"),
    ("GC003", "Restauration Collective de l'Ouest SAS", "slow"),
    ("GC004", "Hôtellerie Océane SA", "punctual"),
)
DISTRIB_FORCED: dict[str, dict[str, object]] = {
    "C10007": {"profile": "bad"},
    "C10012": {
        "language": "en",
        "name": "Galway Foodservice Ltd",
        "siren": None,
        "kind": "company",
        "email": "accounts.payable@galway-foodservice.example",
    },
    "C10023": {"profile": "slow", "kind": "company"},
}
DISTRIB_CONSUMERS = ("C10005", "C10031", "C10058")  # a handful of B2C customers


@dataclass
class DebtorRow:
    """One customer of a creditor."""

    ref: str
    name: str
    email: str
    siren: str | None
    kind: str = "company"
    language: str = "fr"
    key_account: bool = False
    profile: str = "average"


@dataclass
class InvoiceRow:
    """One invoice or credit note line of the export."""

    number: str
    debtor: DebtorRow
    issue_date: date
    due_date: date
    amount: Decimal
    outstanding: Decimal
    currency: str
    paid_date: date | None = None


@dataclass
class PaymentRow:
    """One bank receipt, not yet matched in the ERP export."""

    debtor_ref: str
    invoice_number: str
    amount: Decimal
    paid_date: date
    reference: str


@dataclass
class Ledger:
    """Everything generated for one creditor."""

    spec: CreditorSpec
    debtors: list[DebtorRow] = field(default_factory=list)
    invoices: list[InvoiceRow] = field(default_factory=list)
    payments: list[PaymentRow] = field(default_factory=list)


# --- names -------------------------------------------------------------------------------------


def slugify(text: str) -> str:
    """Return an ASCII, dash-separated form of `text` for e-mail domains."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = ascii_text.lower().replace("&", " and ").replace("'", "")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def siren(rng: random.Random) -> str:
    """Return a random 9-digit SIREN with a valid Luhn key."""
    body = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
    total = 0
    for i, d in enumerate(reversed(body)):  # the key will sit at position 0 (not doubled)
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    return "".join(map(str, body)) + str((10 - total % 10) % 10)


def _fr_company(rng: random.Random) -> tuple[str, str]:
    """Return (legal name, name used for the e-mail domain)."""
    w = words()
    roll = rng.random()
    if roll < 0.55:
        base = f"{rng.choice(w.fr_trades)} {rng.choice(w.fr_surnames)}"
    elif roll < 0.75:
        base = f"{rng.choice(w.fr_place_trades)} {rng.choice(w.fr_places)}"
    elif roll < 0.9:
        base = f"{rng.choice(w.fr_brand_a)} {rng.choice(w.fr_brand_b)}"
    else:
        a, b = rng.sample(w.fr_surnames, 2)
        base = f"{rng.choice(('Établissements', 'Ets', 'Maison'))} {a} & {b}"
    form = rng.choice(w.fr_forms + ("", ""))
    if not form:
        return base, base
    return (f"{form} {base}" if rng.random() < 0.4 else f"{base} {form}"), base


def _uk_company(rng: random.Random) -> tuple[str, str]:
    w = words()
    roll = rng.random()
    if roll < 0.4:
        base = f"{rng.choice(w.uk_prefixes)} {rng.choice(w.uk_trades)}"
    elif roll < 0.65:
        base = f"{rng.choice(w.uk_surnames)} & Sons"
    elif roll < 0.85:
        base = f"{rng.choice(w.uk_surnames)} {rng.choice(w.uk_trades)}"
    else:
        a, b = rng.sample(w.uk_surnames, 2)
        return f"{a} & {b} LLP", f"{a} {b}"
    return f"{base} {rng.choice(('Ltd', 'Ltd', 'Ltd', 'Limited', 'plc'))}", base


def _unique(
    name: str, base: str, used: set[str], towns: tuple[str, ...], rng: random.Random
) -> tuple[str, str]:
    if name not in used:
        used.add(name)
        return name, base
    for _ in range(5):
        town = rng.choice(towns)
        if f"{name} ({town})" not in used:
            used.add(f"{name} ({town})")
            return f"{name} ({town})", f"{base} {town}"
    n = 2
    while f"{name} ({n})" in used:
        n += 1
    used.add(f"{name} ({n})")
    return f"{name} ({n})", f"{base} {n}"


def _make_debtor(spec: CreditorSpec, ref: str, rng: random.Random, used: set[str]) -> DebtorRow:
    w = words()
    profile = rng.choices(PROFILES, PROFILE_WEIGHTS)[0]
    if spec.slug == "distrib-pro" and (ref in DISTRIB_CONSUMERS or rng.random() < 0.02):
        first, last = rng.choice(w.fr_first), rng.choice(w.fr_surnames)
        title = (
            "Mme"
            if first
            in {"Marie", "Claire", "Sophie", "Camille", "Élodie", "Isabelle", "Nathalie", "Hélène"}
            else "M."
        )
        name, _ = _unique(f"{title} {first} {last}", "", used, w.fr_cities, rng)
        local = slugify(f"{first}.{last}").replace("-", ".")
        email = f"{local}{rng.randint(1, 99)}@{rng.choice(('webmail', 'courriel'))}.example"
        return DebtorRow(ref, name, email, None, "consumer", "fr", False, profile)
    english = spec.uk or (spec.slug == "distrib-pro" and rng.random() < 0.05)
    if english:
        name, base = _unique(*_uk_company(rng), used, w.uk_towns, rng)
        local = rng.choice(("accounts", "accounts.payable", "finance", "payables", "office"))
        return DebtorRow(
            ref, name, f"{local}@{slugify(base)}.example", None, "company", "en", False, profile
        )
    name, base = _unique(*_fr_company(rng), used, w.fr_cities, rng)
    local = rng.choice(("compta", "comptabilite", "facturation", "contact", "gestion", "admin"))
    return DebtorRow(
        ref, name, f"{local}@{slugify(base)}.example", siren(rng), "company", "fr", False, profile
    )


def make_debtors(spec: CreditorSpec, count: int, rng: random.Random) -> list[DebtorRow]:
    """Create `count` debtors with creditor-style account references."""
    used: set[str] = set()
    out: list[DebtorRow] = []
    if spec.slug == "distrib-pro":
        for ref, name, profile in DISTRIB_KEY_ACCOUNTS[: max(0, count)]:
            used.add(name)
            email = f"fournisseurs@{slugify(name.rsplit(' ', 1)[0])}.example"
            out.append(DebtorRow(ref, name, email, siren(rng), "company", "fr", True, profile))
    n = 0
    while len(out) < count:
        n += 1
        if spec.slug == "atelier-bois":
            ref = f"CL{n:05d}"
        elif spec.slug == "distrib-pro":
            ref = f"C{10000 + n}"
        else:
            ref = f"TS{n:05d}"
        debtor = _make_debtor(spec, ref, rng, used)
        if spec.slug == "distrib-pro":
            for key, value in DISTRIB_FORCED.get(ref, {}).items():
                setattr(debtor, key, value)
        out.append(debtor)
    return out


# --- invoices and payments ---------------------------------------------------------------------


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _amount(spec: CreditorSpec, debtor: DebtorRow, rng: random.Random) -> Decimal:
    median = spec.amount_median * (3 if debtor.key_account else 1)
    median *= 0.4 if debtor.kind == "consumer" else 1
    net = min(rng.lognormvariate(0, spec.amount_sigma) * median, spec.amount_max / 1.2)
    return _money(max(net, 20) * 1.2)  # amounts incl. 20 % VAT


def _allocate(total: int, debtors: list[DebtorRow], rng: random.Random) -> list[int]:
    """Share `total` invoices among debtors: at least one each, key accounts weigh more."""
    counts = [1 if i < total else 0 for i in range(len(debtors))]
    weights = [(6.0 if d.key_account else 1.0) * rng.uniform(0.4, 2.0) for d in debtors]
    for i in rng.choices(range(len(debtors)), weights, k=max(0, total - len(debtors))):
        counts[i] += 1
    return counts


def make_ledger(spec: CreditorSpec, debtors: int, invoices: int, as_of: date, seed: int) -> Ledger:
    """Generate debtors, invoices (open and paid history) and recent payments of a creditor."""
    rng = random.Random(f"{seed}/{spec.slug}")
    ledger = Ledger(spec, make_debtors(spec, debtors, rng))
    rows: list[tuple[DebtorRow, date, date, Decimal, Decimal, date | None, bool]] = []
    forced = list(range(len(AGE_BUCKETS)))  # every age bucket appears at least once
    for debtor, count in zip(ledger.debtors, _allocate(invoices, ledger.debtors, rng), strict=True):
        for k in range(count):
            terms = rng.choice(spec.terms_days)
            force = bool(forced) and k == 0  # spread the forced buckets over debtors
            # About 1 % credit notes: due at once, mostly applied, some still open.
            if not force and rng.random() < 0.012:
                issued = as_of - timedelta(days=rng.randint(5, 200))
                amount = -_money(rng.uniform(30, 600))
                applied = rng.random() < 0.6
                paid = issued + timedelta(days=rng.randint(1, 20)) if applied else None
                if paid and paid >= as_of:
                    paid = as_of - timedelta(days=1)
                rows.append(
                    (debtor, issued, issued, amount, Decimal(0) if applied else amount, paid, True)
                )
                continue
            amount = _amount(spec, debtor, rng)
            if force or rng.random() < OPEN_SHARE[debtor.profile]:
                bucket = (
                    forced.pop(0)
                    if force
                    else rng.choices(range(len(AGE_BUCKETS)), AGE_WEIGHTS[debtor.profile])[0]
                )
                _, lo, hi = AGE_BUCKETS[bucket]
                due = as_of - timedelta(days=rng.randint(lo, hi))
                outstanding = amount
                if rng.random() < 0.08 and due < as_of:  # partly paid already
                    outstanding = _money(float(amount) * rng.choice((0.25, 0.4, 0.5, 0.7)))
                rows.append(
                    (debtor, due - timedelta(days=terms), due, amount, outstanding, None, False)
                )
                continue
            due = as_of - timedelta(days=rng.randint(1, 350))
            if rng.random() < ON_TIME[debtor.profile]:
                paid = due - timedelta(days=rng.randint(0, min(10, terms - 1)))
            else:
                paid = due + timedelta(days=rng.randint(1, MAX_DELAY[debtor.profile]))
            paid = min(paid, as_of - timedelta(days=1))
            rows.append((debtor, due - timedelta(days=terms), due, amount, Decimal(0), paid, False))
    # Numbers follow issue order, restarting every year, as an ERP numbers its documents.
    order = sorted(range(len(rows)), key=lambda i: (rows[i][1], rows[i][0].ref, i))
    seq: dict[tuple[int, bool], int] = {}
    numbers: dict[int, str] = {}
    for i in order:
        issued, credit = rows[i][1], rows[i][6]
        key = (issued.year, credit)
        seq[key] = seq.get(key, 0) + 1
        prefix = spec.credit_prefix if credit else spec.invoice_prefix
        if spec.uk:
            numbers[i] = f"{prefix}{issued.year % 100:02d}{seq[key]:05d}"
        else:
            numbers[i] = f"{prefix}{issued.year}-{seq[key]:05d}"
    for i, (debtor, issued, due, amount, outstanding, paid, _credit) in enumerate(rows):
        ledger.invoices.append(
            InvoiceRow(numbers[i], debtor, issued, due, amount, outstanding, spec.currency, paid)
        )
    ledger.invoices.sort(key=lambda r: (r.debtor.ref, r.issue_date, r.number))
    ledger.payments = make_payments(ledger, as_of, rng)
    return ledger


def make_payments(ledger: Ledger, as_of: date, rng: random.Random) -> list[PaymentRow]:
    """Pick recent receipts for some open invoices, plus a few unallocated transfers."""
    spec = ledger.spec
    open_rows = [r for r in ledger.invoices if r.outstanding > 0]
    picked = [r for r in open_rows if rng.random() < 0.08]
    payments: list[PaymentRow] = []
    for row in picked:
        amount = row.outstanding if rng.random() < 0.75 else _money(float(row.outstanding) / 2)
        paid = as_of - timedelta(days=rng.randint(1, 6))
        payments.append(PaymentRow(row.debtor.ref, row.number, amount, paid, ""))
    balances: dict[str, Decimal] = {}
    paying = {r.debtor.ref for r in picked}  # on-account transfers go to other debtors
    for row in open_rows:
        if row.debtor.ref not in paying:
            balances[row.debtor.ref] = balances.get(row.debtor.ref, Decimal(0)) + row.outstanding
    candidates = [ref for ref, total in balances.items() if total >= 300]
    for ref in rng.sample(candidates, min(3, len(candidates))):  # on account, no invoice named
        amount = min(Decimal(rng.choice((150, 200, 250, 300))), balances[ref])
        paid = as_of - timedelta(days=rng.randint(1, 6))
        payments.append(PaymentRow(ref, "", amount, paid, ""))
    payments.sort(key=lambda p: (p.paid_date, p.debtor_ref, p.invoice_number))
    prefix = {"atelier-bois": "REG", "distrib-pro": "VIR", "thames-supplies": "BACS"}
    for n, p in enumerate(payments, start=1):
        p.reference = f"{prefix.get(spec.slug, 'PAY')}-{p.paid_date:%y%m%d}-{n:04d}"
    return payments


def _exports() -> ModuleType:
    """Load the writers of `erp_exports.py`, beside this file (examples/ is no package)."""
    name = "relance_examples_erp_exports"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("erp_exports.py")
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


# --- entry points ------------------------------------------------------------------------------


def _split(total: int, shares: list[float]) -> list[int]:
    raw = [total * s / sum(shares) for s in shares]
    counts = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True):
        if sum(counts) == total:
            break
        counts[i] += 1
    return counts


def generate_portfolio(
    out: Path,
    *,
    debtors: int,
    invoices: int,
    as_of: date,
    seed: int = 7,
    formats: Mapping[str, str] | None = None,
) -> dict[str, Ledger]:
    """Write one folder per creditor under `out` and return what was generated.

    `formats` maps creditor slug → one of FORMATS (default DEFAULT_FORMATS); only the
    creditors it names are generated, sharing `debtors` and `invoices` between them.
    """
    chosen = dict(DEFAULT_FORMATS if formats is None else formats)
    for slug, fmt in chosen.items():
        if slug not in SPECS:
            raise ValueError(f"unknown creditor {slug!r} (known: {', '.join(SPECS)})")
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    slugs = list(chosen)
    d_counts = _split(debtors, [SPECS[s].debtor_share for s in slugs])
    i_counts = _split(invoices, [SPECS[s].invoice_share for s in slugs])
    ledgers: dict[str, Ledger] = {}
    for slug, n_debtors, n_invoices in zip(slugs, d_counts, i_counts, strict=True):
        ledger = make_ledger(SPECS[slug], n_debtors, n_invoices, as_of, seed)
        folder = out / slug
        folder.mkdir(parents=True, exist_ok=True)
        exports = _exports()
        fmt = chosen[slug]
        if fmt == "sage_csv":
            exports.write_sage_csv(ledger, folder)
        elif fmt == "uk_csv":
            exports.write_uk_csv(ledger, folder)
        else:
            exports.write_xlsx(ledger, folder, as_of)
        ledgers[slug] = ledger
    return ledgers


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and write the portfolio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--debtors", type=int, default=SAMPLE_DEBTORS)
    parser.add_argument("--invoices", type=int, default=SAMPLE_INVOICES)
    parser.add_argument("--as-of", type=date.fromisoformat, default=SAMPLE_AS_OF)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    ledgers = generate_portfolio(
        args.out, debtors=args.debtors, invoices=args.invoices, as_of=args.as_of, seed=args.seed
    )
    for slug, ledger in ledgers.items():
        open_rows = sum(1 for r in ledger.invoices if r.outstanding != 0)
        print(
            f"{slug}: {len(ledger.debtors)} debtors, {len(ledger.invoices)} invoices "
            f"({open_rows} open), {len(ledger.payments)} payments"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
