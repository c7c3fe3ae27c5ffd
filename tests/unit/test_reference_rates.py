"""Half-year reference rates are derived from the central banks' dated decisions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from assistant.letters.rates import (
    MissingRateError,
    RateTable,
    RateTableError,
    half_year_rates,
    rate_in_force,
)

D = Decimal
RATES = RateTable.packaged()


@pytest.mark.parametrize(
    ("on", "rate"),
    [
        (date(2022, 1, 1), "0.00"),
        # 0.50 % took effect on 27 July 2022: the rate in force on 1 July was still 0.00 %.
        (date(2022, 7, 1), "0.00"),
        (date(2022, 12, 31), "0.00"),
        (date(2023, 1, 1), "2.50"),  # 21 December 2022
        # 4.25 % took effect on 2 August 2023: on 1 July 2023 the rate was 4.00 %.
        (date(2023, 7, 1), "4.00"),
        (date(2023, 11, 30), "4.00"),
        (date(2024, 1, 1), "4.50"),
        (date(2024, 7, 1), "4.25"),  # 12 June 2024
        (date(2025, 1, 1), "3.15"),  # 18 December 2024
        (date(2025, 7, 1), "2.15"),  # 11 June 2025
    ],
)
def test_the_ecb_rate_of_a_half_year_is_the_one_in_force_on_its_first_day(on, rate):
    assert RATES.ecb(on) == D(rate)


@pytest.mark.parametrize(
    ("on", "rate"),
    [
        (date(2023, 1, 1), "3.50"),  # in force on 31 December 2022 (15 December 2022)
        (date(2023, 7, 1), "5.00"),  # in force on 30 June 2023 (22 June 2023)
        (date(2024, 7, 1), "5.25"),  # the 1 August 2024 cut came after 30 June
        (date(2025, 1, 1), "4.75"),
        (date(2025, 7, 1), "4.25"),
    ],
)
def test_the_uk_reference_rate_is_the_bank_rate_of_the_day_before_the_half_year(on, rate):
    assert RATES.boe(on) == D(rate)


def test_derivation_from_decisions():
    decisions = [(date(2022, 7, 27), D("0.50")), (date(2023, 8, 2), D("4.25"))]
    assert rate_in_force(decisions, date(2022, 7, 26)) is None
    assert rate_in_force(decisions, date(2022, 7, 27)) == D("0.50")
    france = half_year_rates(decisions, day_before=False, last_year=2024)
    assert (2022, 2) not in france  # no decision in force on 1 July 2022
    assert france[(2023, 1)] == france[(2023, 2)] == D("0.50")
    assert france[(2024, 1)] == D("4.25")
    uk = half_year_rates([(date(2023, 1, 1), D("4.00"))], day_before=True, last_year=2023)
    assert (2023, 1) not in uk and uk[(2023, 2)] == D("4.00")  # 31 Dec 2022 had none


def test_before_the_first_decision_the_rate_is_missing_with_a_clear_error():
    with pytest.raises(MissingRateError, match=r"2015H2.*reference_rates\.yaml"):
        RATES.ecb(date(2015, 9, 1))


def test_decisions_out_of_order_are_refused():
    data = {
        "ecb_main_refinancing": {
            "decisions": [
                {"effective": "2023-08-02", "rate": "4.25"},
                {"effective": "2022-07-27", "rate": "0.50"},
            ]
        }
    }
    with pytest.raises(RateTableError, match="increasing"):
        RateTable.from_mapping(data)


def test_the_packaged_file_has_no_verify_marks_left():
    from assistant.letters.rates import PACKAGED_RATES

    assert "verify" not in PACKAGED_RATES.read_text(encoding="utf-8").lower()
