"""Unified social credit codes (GB 32100-2015): check characters, validation and generation."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_ORG_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def check_character(first17: str) -> str:
    """Return the GB 32100 check character (position 18) for 17 leading characters.

    >>> check_character("9144030071526726X")
    'G'
    """
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def org_code_check(body8: str) -> str:
    """Return the GB 11714 organization-code check character for its 8 leading characters.

    >>> org_code_check("71526726")
    'X'
    """
    total = sum(_ORG_CHARS.index(ch) * w for ch, w in zip(body8, _ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    return {10: "X", 11: "0"}.get(c, str(c))


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one code: a canonical form, and a reason when it is rejected."""

    code: str
    reason: str | None = None
    warning: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def clean(raw: object) -> str:
    """Canonical text of a code as typed: trimmed, full-width folded, upper case.

    >>> clean(" 9144030071526726xg ")
    '9144030071526726XG'
    """
    if raw is None:
        return ""
    text = str(raw).strip()
    text = "".join(chr(ord(c) - 0xFEE0) if "\uff01" <= c <= "\uff5e" else c for c in text)
    return text.replace(" ", "").upper()


def verify(raw: object) -> Verdict:
    """Check a credit code; rejection reasons are stable codes used in quarantine.

    >>> verify("51100000500002862F").ok
    True
    >>> verify("51100000500002862A").reason
    'credit_code_check_character'
    """
    code = clean(raw)
    if not code:
        return Verdict(code, "credit_code_missing")
    if len(code) in (13, 15) and code.isdigit():
        return Verdict(code, "credit_code_legacy_registration_number")
    if len(code) != 18:
        return Verdict(code, "credit_code_length")
    if any(ch not in _VALUE for ch in code):
        return Verdict(code, "credit_code_characters")
    if check_character(code[:17]) != code[17]:
        return Verdict(code, "credit_code_check_character")
    body = code[8:16]
    if all(ch in _ORG_CHARS for ch in body) and org_code_check(body) != code[16]:
        return Verdict(code, warning="organization_code_check")
    return Verdict(code)


ORGANIZATION_CODE = re.compile(r"[0-9A-Z]{8}[0-9X]")


def organization_code(raw: str) -> str | None:
    """An organization code (组织机构代码, GB 11714) as written on certificates, `50000123-4`, in its
    plain 9-character form; None when it is not one. Its check character is not enforced (real codes
    sometimes fail it, as inside credit codes).

    >>> [organization_code(x) for x in ("50000123-4", "5000 0123 4", "71526726x", "5000123")]
    ['500001234', '500001234', '71526726X', None]
    """
    code = re.sub(r"[\s\-－—‐]", "", raw).upper()
    return code if ORGANIZATION_CODE.fullmatch(code) else None


def make_code(department: str, category: str, division: str, rng: random.Random) -> str:
    """Generate a valid code for a registrar division, with a valid inner organization code."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    first17 = f"{department}{category}{division}{body}{org_code_check(body)}"
    return first17 + check_character(first17)


def corrupt_check_character(code: str) -> str:
    """Return the code with a different, wrong check character (for bad sample rows); a code spelled in
    lower case (as the sample spells some) is read in upper case."""
    wrong = ALPHABET[(_VALUE[code[17].upper()] + 7) % 31]
    return code[:17] + wrong


def check_characters_match(codes: pa.Array | pa.ChunkedArray) -> pa.BooleanArray:
    """Vectorized check: per code, whether it is 18 alphabet characters with the right check character.

    Nulls stay null. Used by the quality gate on whole columns.

    >>> check_characters_match(pa.array(["51100000500002862F", "51100000500002862A", "x", None])).to_pylist()
    [True, False, False, None]
    """
    codes = _large_strings(codes)
    valid = None
    if codes.null_count:
        bitmap = np.frombuffer(codes.buffers()[0], dtype="uint8")
        valid = np.unpackbits(bitmap, bitorder="little")[codes.offset : codes.offset + len(codes)]
    # Built from buffers: pa.array() and BooleanArray.to_numpy() import pandas (a second, the first time).
    return pa.Array.from_buffers(pa.bool_(), len(codes), [_bits(valid), _bits(check_characters_ok(codes))])


def check_characters_ok(codes: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Like check_characters_match(), as a numpy array, for codes without nulls (a null reads as the
    empty text it holds); chunk by chunk, with no copy of the text, one slice of CHECK_SLICE codes in
    memory at a time."""
    parts = []
    for chunk in codes.chunks if isinstance(codes, pa.ChunkedArray) else [codes]:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            chunk = chunk.cast(pa.large_string())
        parts += [_match_slice(chunk.slice(i, CHECK_SLICE)) for i in range(0, len(chunk), CHECK_SLICE)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _large_strings(codes: pa.Array | pa.ChunkedArray) -> pa.LargeStringArray:
    if isinstance(codes, pa.ChunkedArray):
        codes = codes.combine_chunks()
    return codes.cast(pa.large_string())


def _bits(flags) -> pa.Buffer | None:
    return None if flags is None else pa.py_buffer(np.packbits(flags, bitorder="little"))


CHECK_SLICE = 1 << 18


def _match_slice(codes: pa.StringArray | pa.LargeStringArray) -> np.ndarray:
    width = np.int64 if pa.types.is_large_string(codes.type) else np.int32
    offsets = np.frombuffer(codes.buffers()[1], dtype=width)[codes.offset : codes.offset + len(codes) + 1]
    data = np.frombuffer(codes.buffers()[2] or b"\0", dtype=np.uint8)
    sized = np.diff(offsets) == 18
    if sized.all():  # the codes lie end to end: no gather
        picked = data[offsets[0] : offsets[-1]].reshape(-1, 18)
    else:
        starts = np.where(sized, offsets[:-1], 0)
        picked = data[starts[:, None] + np.arange(18)[None, :] * sized[:, None]]
    values = _BYTE_VALUES[picked]  # 255 for a byte outside the alphabet
    total = (values[:, :17] @ _WEIGHT_ARRAY).astype(np.int32)  # float32: exact, as sums stay below 2**24
    ok = sized & (_ALPHABET_BYTES[(31 - total % 31) % 31] == picked[:, 17])
    outside = values == 255
    return ok & ~outside.any(axis=1) if outside.any() else ok


def _byte_tables():
    values = np.full(256, 255, dtype=np.uint8)
    for i, ch in enumerate(ALPHABET):
        values[ord(ch)] = i
    return values, np.array(WEIGHTS, dtype=np.float32), np.frombuffer(ALPHABET.encode(), dtype=np.uint8)


_BYTE_VALUES, _WEIGHT_ARRAY, _ALPHABET_BYTES = _byte_tables()


def check_character_sql(code: str) -> str:
    """DuckDB SQL for the GB 32100 check character of a code's first 17 characters (an SQL expression).

    >>> import duckdb
    >>> duckdb.sql(f"select {check_character_sql(repr('51100000500002862'))}").fetchall()
    [('F',)]
    """
    terms = " + ".join(
        f"(strpos('{ALPHABET}', substr({code}, {i + 1}, 1)) - 1) * {w}" for i, w in enumerate(WEIGHTS)
    )
    return f"substr('{ALPHABET}', cast((31 - ({terms}) % 31) % 31 + 1 as bigint), 1)"
