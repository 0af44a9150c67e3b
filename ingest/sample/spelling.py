"""How exports spell values: many date formats, grade spellings, codes typed as numbers."""

from __future__ import annotations

import datetime as dt
import random

from ingest.rules.typing_rules import EXCEL_EPOCH

GRADE_SPELLINGS = ["{g}A", "{a}", "{g}A级", "{fw}"]
_FULLWIDTH_DIGITS = str.maketrans("0123456789A-", "０１２３４５６７８９Ａ－")


def spell_date(day: dt.date, rng: random.Random, xlsx: bool) -> object:
    """One of the spellings exports use for a date; Excel serial numbers as numbers in .xlsx."""
    pick = rng.randrange(7)
    if pick == 0:
        return f"{day.year}/{day.month}/{day.day}"
    if pick == 1:
        return f"{day.year}年{day.month}月{day.day}日"
    if pick == 2:
        return day.strftime("%Y%m%d")
    if pick == 3:
        serial = (day - EXCEL_EPOCH).days
        return serial if xlsx else str(serial)
    if pick == 4:
        return day.isoformat().translate(_FULLWIDTH_DIGITS)
    if pick == 5 and xlsx:
        return dt.datetime(day.year, day.month, day.day)
    return day.isoformat()


def spell_grade(grade: int | None, rng: random.Random) -> str:
    """`5A`, `AAAAA`, `5A级`, `５Ａ`; empty or `未评估` when not evaluated."""
    if grade is None:
        return rng.choice(["", "", "未评估"])
    spelling = rng.choice(GRADE_SPELLINGS)
    return spelling.format(g=grade, a="A" * grade, fw=f"{grade}A".translate(_FULLWIDTH_DIGITS))


def spell_code(code: str, rng: random.Random) -> str:
    """A credit code as typed: sometimes with a lowercase check character x."""
    if code.endswith("X") and rng.random() < 0.3:
        return code[:-1] + "x"
    return code


def spell_number(digits: str, rng: random.Random, xlsx: bool) -> object:
    """Digits (a division code, a phone number) typed into Excel as a number half of the time."""
    return int(digits) if xlsx and digits.isdigit() and rng.random() < 0.5 else digits


def spell_amount(amount: float, rng: random.Random) -> str:
    """An amount in 10,000 CNY as typed: `50`, `1,200`, `35.5万元`."""
    if amount >= 1000 and rng.random() < 0.5:
        return f"{amount:,.0f}"
    if rng.random() < 0.2:
        return f"{amount:g}万元"
    return f"{amount:g}"


def random_day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    """A uniformly random day in [start, end]."""
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))
