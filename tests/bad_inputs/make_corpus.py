"""Write the bad-input corpus (files under files/); cases.yaml says what each must produce.

Run from the repository root: `.venv/bin/python tests/bad_inputs/make_corpus.py`.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import openpyxl

from ingest.rules.creditcode import corrupt_check_character, make_code

HERE = Path(__file__).parent / "files"
RNG = random.Random(2023)
CODES = [make_code("5", "1", "320508", RNG) for _ in range(6)]
A, B, C, D, E, F = CODES
LETTER = next(c for c in (make_code("5", "1", "320508", RNG) for _ in range(100)) if c[-1].isalpha())
HEADER = "统一社会信用代码,社会组织名称,社会组织类型,成立登记日期,登记状态,注册资金（万元）,住所"
GOOD = [
    f"{A},苏州市围棋协会,社会团体,2019-03-05,正常,10,姑苏区1号",
    f"{B},苏州市摄影学会,社会团体,2020/1/2,正常,5,吴中区2号",
]
MEMBER_HEADER = "会员单位名称,统一社会信用代码,会员类型,会内职务,入会日期,会员状态,联系人,联系电话"


def csv_file(name: str, lines: list[str], encoding: str = "utf-8", newline: str = "\n") -> None:
    (HERE / name).write_bytes(newline.join(lines).encode(encoding) + newline.encode(encoding))


def raw_file(name: str, content: bytes) -> None:
    (HERE / name).write_bytes(content)


def xlsx_file(name: str, rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    (HERE / name).write_bytes(buffer.getvalue())
    return buffer.getvalue()


def zip_bomb(name: str) -> None:
    """A valid-looking workbook whose sheet inflates to ~300 MiB from a few hundred KiB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            chunk = b"<row>" + b" " * (1 << 20) + b"</row>"
            for _ in range(300):
                sheet.write(chunk)
    (HERE / name).write_bytes(buffer.getvalue())


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for old in HERE.iterdir():
        old.unlink()
    raw_file("undecodable.csv", (HEADER + "\n").encode() + b"\x80\xff\xfe,\x81\x30\n" * 3)
    raw_file("cut_mid_row.csv", (HEADER + "\n" + GOOD[0] + "\n" + f'{B},"苏州市摄影').encode())
    raw_file(
        "cut_mid_row_unquoted.csv", (HEADER + "\n" + GOOD[0] + "\n" + f"{B},苏州市摄影学会,社会").encode()
    )
    whole = xlsx_file("truncated.xlsx", [HEADER.split(","), GOOD[0].split(",")])
    raw_file("truncated.xlsx", whole[: len(whole) // 2])
    zip_bomb("zip_bomb.xlsx")
    xlsx_file(
        "formulas.xlsx",
        [
            HEADER.split(","),
            GOOD[0].split(","),
            [C, '=A1&"协会"', "社会团体", "2019-01-01", "正常", "=1+1", ""],
        ],
    )
    raw_file("empty.csv", b"")
    csv_file("header_only.csv", [HEADER])
    csv_file("unknown_header.csv", ["编号,单位,地址,电话", "1,甲,乙,丙"])
    csv_file("missing_required_column.csv", ["统一社会信用代码,社会组织名称,登记状态", f"{A},甲协会,正常"])
    csv_file(
        "duplicate_column.csv",
        ["统一社会信用代码,社会组织名称,组织名称,社会组织类型,登记状态", f"{A},甲,甲,社会团体,正常"],
    )
    csv_file("extra_columns.csv", [HEADER + ",备注,网址", GOOD[0] + ",无,http://x", GOOD[1] + ",,"])
    csv_file("line_endings_cr.csv", [HEADER, *GOOD], newline="\r")
    csv_file("line_endings_lf.csv", [HEADER, *GOOD], newline="\n")
    csv_file("line_endings_crlf.csv", [HEADER, *GOOD], newline="\r\n")
    csv_file("nul_bytes.csv", [HEADER, GOOD[0], f"{C},苏州市\x00协会,社会团体,2019-01-01,正常,1,x"])
    csv_file(
        "one_megabyte_cell.csv",
        [HEADER, GOOD[0], f"{C},苏州市长文协会,社会团体,2019-01-01,正常,1,{'长' * 350_000}"],
    )
    csv_file(
        "future_and_impossible_dates.csv",
        [
            HEADER,
            GOOD[0],
            f"{C},甲协会,社会团体,2031-01-01,正常,1,x",
            f"{D},乙协会,社会团体,2023-02-30,正常,1,x",
        ],
    )
    csv_file("negative_capital.csv", [HEADER, GOOD[0], f"{C},甲协会,社会团体,2019-01-01,正常,-5,x"])
    csv_file("footer_disagrees.csv", [HEADER, *GOOD, "合计：3"])
    csv_file(
        "footer_agrees_title_row.csv",
        ["苏州市社会组织登记信息（截至2023年10月31日）", HEADER, *GOOD, "共 2 条"],
        encoding="gb18030",
    )
    csv_file(
        "quoted_newline.csv", [HEADER, GOOD[0], f'{C},甲协会,社会团体,2019-01-01,正常,1,"姑苏区\n人民路1号"']
    )
    csv_file(
        "lowercase_and_fullwidth.csv",
        [HEADER, f"{LETTER.lower()},苏州市（围棋）協會,社会团体,２０１９－０３－０５,正常,１０,x"],
    )
    csv_file(
        "legacy_registration_numbers.csv",
        [
            HEADER,
            GOOD[0],
            "320500000012345,甲协会,社会团体,2019-01-01,正常,1,x",
            "3205000000123,乙协会,社会团体,2019-01-01,正常,1,x",
        ],
    )
    csv_file(
        "wrong_check_character.csv",
        [HEADER, GOOD[0], f"{corrupt_check_character(B)},甲协会,社会团体,2019-01-01,正常,1,x"],
    )
    csv_file("duplicate_code.csv", [HEADER, *GOOD, f"{A},重复协会,社会团体,2019-01-01,正常,1,x"])
    csv_file(
        "unknown_type_and_status.csv",
        [
            HEADER,
            GOOD[0],
            f"{C},甲协会,民间组织,2019-01-01,正常,1,x",
            f"{D},乙协会,社会团体,2019-01-01,休眠,1,x",
        ],
    )
    xlsx_file(
        "code_typed_as_number.xlsx",
        [
            HEADER.split(","),
            GOOD[0].split(","),
            [float("5.132050012345678e17"), "甲协会", "社会团体", 43529, "正常", 1, "x"],
        ],
    )
    raw_file("utf16.csv", ("\n".join([HEADER, *GOOD]) + "\n").encode("utf-16"))
    csv_file("header_below_many_titles.csv", [f"标题{i}" for i in range(35)] + [HEADER, GOOD[0]])
    csv_file("bad_name_dots.csv", [HEADER, GOOD[0]])
    csv_file("no_pattern.csv", [HEADER, GOOD[1]])
    csv_file(
        "membership_bad_association_code.csv",
        [
            MEMBER_HEADER,
            f"甲公司,{make_code('9', '1', '320508', RNG)},单位会员,会员单位,2020-01-01,正常,张三,13900000000",
        ],
    )
    csv_file(
        "membership_rows_too_long.csv",
        [
            MEMBER_HEADER,
            "甲公司,,单位会员,会员单位,2020-01-01,正常,张三,13900000000,多余",
            "乙公司,,单位会员,会员单位,2020-01-01,正常,李四,13900000001",
        ],
    )
    print("association codes:", E, corrupt_check_character(F))


if __name__ == "__main__":
    main()
