"""The GB 32100 check: literal cases, and every real 18-character code judged like an independent check."""

from __future__ import annotations

import csv
import random

import pytest

from ingest.rules.creditcode import check_character, corrupt_check_character, make_code, verify

PUBLIC_VALID = [
    "9144030071526726XG",
    "91330100716105852F",
    "91110108551385082Q",
    "51100000500002862F",
    "53100000500019795A",
    "5144030050267905XD",
]


@pytest.mark.parametrize("code", PUBLIC_VALID)
def test_public_codes_verify(code):
    assert verify(code).ok
    assert verify(code).warning is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "credit_code_missing"),
        (None, "credit_code_missing"),
        ("51100000500002862A", "credit_code_check_character"),
        ("5110000050000286", "credit_code_length"),
        ("320500000012345", "credit_code_legacy_registration_number"),
        ("3205000000123", "credit_code_legacy_registration_number"),
        ("51100000500002862I", "credit_code_characters"),
    ],
)
def test_rejections_have_stable_reasons(raw, reason):
    assert verify(raw).reason == reason


def test_lowercase_and_fullwidth_are_cleaned_before_checking():
    assert verify("9144030071526726xg").code == "9144030071526726XG"
    assert verify("９１４４０３００７１５２６７２６ＸＧ").ok


def test_inner_organization_code_failure_is_only_a_warning():
    first17 = "5132050012345678" + "9"  # inner check of 12345678 is 2, not 9
    code = first17 + check_character(first17)
    verdict = verify(code)
    assert verdict.ok
    assert verdict.warning == "organization_code_check"


def test_generated_codes_are_valid_for_their_registrar_and_category():
    rng = random.Random(1)
    for _ in range(200):
        code = make_code("5", "2", "320594", rng)
        assert verify(code).ok and verify(code).warning is None
        assert code[:2] == "52" and code[2:8] == "320594"
        assert not verify(corrupt_check_character(code)).ok


def independent_check(code: str) -> bool:
    """GB 32100 written again from the standard's text, sharing nothing with ingest.rules.creditcode."""
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    code = code.upper()
    if len(code) != 18 or any(c not in charset for c in code):
        return False
    total = sum(charset.index(c) * w for c, w in zip(code[:17], weights, strict=True))
    return charset[(31 - total % 31) % 31] == code[17]


def test_every_real_18_character_code_is_judged_like_an_independent_implementation(shared):
    codes = []
    for path in sorted((shared / "data" / "real-registrations").glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            codes += [row["统一社会信用代码"].strip() for row in csv.DictReader(fh)]
    eighteen = [c for c in codes if len(c) == 18]
    assert len(eighteen) > 800
    disagreements = [c for c in eighteen if verify(c).ok != independent_check(c)]
    assert disagreements == []
    assert sum(independent_check(c) for c in eighteen) > 0.95 * len(eighteen)


def test_the_vectorized_check_judges_like_the_independent_one_across_slices(monkeypatch):
    """check_characters_match() works slice by slice; a slice of codes that all have 18 characters
    is read without a gather. Mixed slices, nulls and sliced input must all come out right."""
    import pyarrow as pa

    from ingest.rules import creditcode

    monkeypatch.setattr(creditcode, "CHECK_SLICE", 7)
    rng = random.Random(5)
    codes = []
    for i in range(300):
        code = make_code("5", "1", "320508", rng)
        spellings = [code, corrupt_check_character(code), None, code[:17], code.lower(),
                     code[:5] + "I" + code[6:], code + "1", "全角" + code[2:]]  # fmt: skip
        codes.append(spellings[i % 8 if i < 200 else 0])  # the last 100: all valid, 18 characters
    judged = creditcode.check_characters_match(pa.array(codes)[3:]).to_pylist()
    expected = [None if c is None else c == c.upper() and independent_check(c) for c in codes[3:]]
    assert judged == expected
    assert judged.count(False) > 100 and judged.count(True) > 100 and None in judged
