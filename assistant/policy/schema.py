"""The policy a credit manager writes, as pydantic models (validation only, no I/O)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assistant.policy.fields import check_email, check_iban, check_time_zone, parse_clock_time

Tone = Literal["courteous", "neutral", "firm", "formal"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Party(Strict):
    """A legal person that appears on letters."""

    name: str = Field(min_length=1)
    address: str = Field(min_length=1)
    email: str | None = None
    phone: str | None = None
    # Checked (length, checksum, VAT key) by `policy check`, which reports them located.
    siren: str | None = None
    siret: str | None = None
    vat_number: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else check_email(value)


class CreditorIdentity(Party):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    sender_name: str | None = None
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None
    payment_url: str | None = None

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str | None) -> str | None:
        return None if value is None else check_iban(value)


class AgencyIdentity(Party):
    mandate_reference: str = Field(min_length=1)
    activity_statement: str = "exerce une activité de recouvrement amiable de créances"


class VoiceTranslation(Strict):
    """The sign-off and signature used for letters in another language than the policy's."""

    sign_off: str = Field(min_length=1)
    signature: list[str] | None = None


class Voice(Strict):
    default: Tone = "courteous"
    guidelines: str = ""
    sign_off: str
    signature: list[str] = Field(default_factory=list)
    forbidden_words: list[str] = Field(default_factory=list)
    translations: dict[Literal["fr", "en"], VoiceTranslation] = Field(default_factory=dict)

    def closing(self, language: str) -> tuple[str, list[str]]:
        """Return (sign-off, signature lines) for a letter written in `language`."""
        other = self.translations.get(language)  # type: ignore[call-overload]
        if other is None:
            return self.sign_off, self.signature
        return other.sign_off, self.signature if other.signature is None else other.signature


class LadderStep(Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    days_after_due: int = Field(ge=-30, le=365)
    template: str = Field(pattern=r"^[a-z0-9_]+$")
    tone: Tone = "courteous"
    min_days_since_previous: int = Field(default=7, ge=0, le=120)
    four_eyes: bool = False
    formal_notice: bool = False
    pdf: bool = False
    deadline_days: int | None = Field(default=None, ge=1, le=60)
    show_penalties: bool = False
    pre_due: bool = False
    statement: bool = False  # attach a statement of account PDF (the letter says so)


class OldDebtStart(Strict):
    """Where a debt already this old when first seen starts on the ladder."""

    days_overdue: int = Field(ge=1)
    start_at: str


class Ladder(Strict):
    steps: list[LadderStep] = Field(min_length=1)
    old_debts: OldDebtStart | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Ladder:
        names = [s.name for s in self.steps]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValueError(
                    f"@steps.{i}.name: step name {name!r} is already used by step "
                    f"{names.index(name) + 1}; step names must be unique"
                )
        for i, (before, after) in enumerate(zip(self.steps, self.steps[1:], strict=False), 1):
            if after.days_after_due <= before.days_after_due:
                raise ValueError(
                    f"@steps.{i}.days_after_due: step {after.name!r} ({after.days_after_due} "
                    f"days after due) comes after {before.name!r} ({before.days_after_due} "
                    "days): steps must be in strictly increasing days_after_due order"
                )
        if self.old_debts and self.old_debts.start_at not in names:
            raise ValueError(
                f"@old_debts.start_at: old_debts.start_at {self.old_debts.start_at!r} is not "
                f"a step name (steps: {', '.join(names)})"
            )
        return self

    def index(self, name: str) -> int:
        """Return the position of the step called `name`."""
        for i, step in enumerate(self.steps):
            if step.name == name:
                return i
        raise KeyError(name)


class LateInterest(Strict):
    rule: Literal["ecb_plus_10", "fixed", "boe_plus_8", "none"] = "ecb_plus_10"
    rate: Decimal | None = Field(default=None, ge=0, le=100, description="percent a year")

    @model_validator(mode="after")
    def _rate_when_fixed(self) -> LateInterest:
        if self.rule == "fixed" and self.rate is None:
            raise ValueError("rate is required when rule is 'fixed'")
        if self.rule != "fixed" and self.rate is not None:
            raise ValueError("rate is only allowed when rule is 'fixed'")
        return self


class IndemnityBand(Strict):
    """The flat indemnity owed on a late invoice whose amount is below `below` (None: any)."""

    below: Decimal | None = Field(default=None, gt=0)
    amount: Decimal = Field(ge=0)


def _bands_in_order(bands: list[IndemnityBand]) -> list[IndemnityBand]:
    for i, band in enumerate(bands):
        last = i == len(bands) - 1
        if band.below is None and not last:
            raise ValueError(f"@{i}.below: only the last band may have no 'below' limit")
        if i and band.below is not None and bands[i - 1].below is not None:
            if band.below <= bands[i - 1].below:  # type: ignore[operator]
                raise ValueError(f"@{i}.below: bands must be in increasing 'below' order")
    return bands


class Terms(Strict):
    payment_terms_days: int = Field(default=30, ge=0, le=60)
    late_interest: LateInterest = LateInterest()
    recovery_indemnity: bool = True
    indemnity_amount: Decimal = Field(default=Decimal("40"), ge=0)
    # By invoice size, e.g. the UK Late Payment Act's £40 / £70 / £100; replaces indemnity_amount.
    indemnity_bands: list[IndemnityBand] = Field(default_factory=list)
    waive_for_key_accounts: bool = False

    @field_validator("indemnity_bands")
    @classmethod
    def _bands(cls, value: list[IndemnityBand]) -> list[IndemnityBand]:
        return _bands_in_order(value)


class TermsOverride(Strict):
    late_interest: LateInterest | None = None
    recovery_indemnity: bool | None = None
    indemnity_amount: Decimal | None = None
    indemnity_bands: list[IndemnityBand] | None = None


class DebtorOverride(Strict):
    debtor_ref: str
    terms: TermsOverride | None = None
    tone: Tone | None = None
    language: Literal["fr", "en"] | None = None
    exclude: bool = False
    note: str | None = None


class ContactCap(Strict):
    max_messages: int = Field(default=2, ge=1, le=10)
    per_days: int = Field(default=7, ge=1, le=60)


class Sending(Strict):
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    start: time = time(9, 0)
    end: time = time(18, 0)
    exclude_public_holidays: bool = True
    holidays_country: str = "FR"
    timezone: str = "Europe/Paris"
    daily_cycle_at: time = time(8, 0)

    @field_validator("start", "end", "daily_cycle_at", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        return parse_clock_time(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_time_zone(value)

    @model_validator(mode="after")
    def _window(self) -> Sending:
        if self.start >= self.end:
            raise ValueError("sending.start must be before sending.end")
        if not self.days:
            raise ValueError("at least one sending day is needed")
        return self


class HandoffRules(Strict):
    amount_threshold: Decimal | None = Field(default=None, ge=0)
    broken_promises: int = Field(default=2, ge=1)
    days_after_last_step: int = Field(default=15, ge=0)


class PromiseRules(Strict):
    grace_days: int = Field(default=3, ge=0, le=30)


class PaymentPlanLimits(Strict):
    max_instalments: int = Field(default=6, ge=1, le=36)
    min_instalment: Decimal = Field(default=Decimal("100"), ge=0)
    max_duration_days: int = Field(default=180, ge=1, le=730)


class ReplyRules(Strict):
    """Which inbound mail may change a case on its own."""

    # True: a sender of the same (non-webmail) domain as a known contact counts as the debtor.
    trust_sender_domain: bool = False


class HistoryTone(Strict):
    """Use a softer tone for clients who usually pay on time."""

    punctual_on_time_rate: float = Field(default=0.9, ge=0, le=1)
    min_paid_invoices: int = Field(default=3, ge=1)
    courteous_at_steps: list[str] = Field(default_factory=list)


class Policy(Strict):
    version: int = 1
    creditor: CreditorIdentity
    mode: Literal["in_house", "agency"] = "in_house"
    agency: AgencyIdentity | None = None
    language: Literal["fr", "en"] = "fr"
    jurisdiction: Literal["FR", "UK", "US"] = "FR"
    engine: Literal["template", "llm"] = "template"
    auto_approve: bool = False
    voice: Voice
    ladder: Ladder
    terms: Terms = Terms()
    overrides: list[DebtorOverride] = Field(default_factory=list)
    minimum_amount: Decimal = Field(default=Decimal("0"), ge=0)
    contact_cap: ContactCap = ContactCap()
    sending: Sending = Sending()
    handoff: HandoffRules = HandoffRules()
    promises: PromiseRules = PromiseRules()
    payment_plans: PaymentPlanLimits = PaymentPlanLimits()
    replies: ReplyRules = ReplyRules()
    history_tone: HistoryTone | None = None
    # Debtors imported with no type (no column, no cell) are businesses unless this says so.
    default_debtor_type: Literal["company", "consumer"] | None = None

    @field_validator("overrides")
    @classmethod
    def _unique_overrides(cls, value: list[DebtorOverride]) -> list[DebtorOverride]:
        refs = [o.debtor_ref for o in value]
        dupes = sorted({r for r in refs if refs.count(r) > 1})
        if dupes:
            raise ValueError(f"debtor_ref listed twice: {', '.join(dupes)}")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Policy:
        if self.mode == "agency" and self.agency is None:
            raise ValueError(
                "@mode: mode 'agency' needs an 'agency' block (name, address, mandate)"
            )
        if self.mode == "in_house" and self.agency is not None:
            raise ValueError("@agency: an 'agency' block is only allowed with mode 'agency'")
        if self.history_tone:
            names = {s.name for s in self.ladder.steps}
            unknown = [n for n in self.history_tone.courteous_at_steps if n not in names]
            if unknown:
                raise ValueError(
                    f"@history_tone.courteous_at_steps: courteous_at_steps names unknown step(s) {unknown}"
                )
        return self

    @property
    def slug(self) -> str:
        """Return the creditor's slug."""
        return self.creditor.slug

    def override_for(self, debtor_ref: str) -> DebtorOverride | None:
        """Return the override written for `debtor_ref`, if any."""
        for o in self.overrides:
            if o.debtor_ref == debtor_ref:
                return o
        return None

    def step(self, name: str) -> LadderStep:
        """Return the ladder step called `name`."""
        return self.ladder.steps[self.ladder.index(name)]
