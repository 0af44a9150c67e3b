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


def xls_file(name: str, rows: list[list[object]], merged: list[tuple[int, int, int, int]] = ()) -> None:
    """A legacy Excel 97–2003 workbook (BIFF8), written by xlwt; `merged`: (row, row, col, col) ranges
    whose first cell holds the text, as offices merge a header's group cells."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    starts = {(r0, c0): (r1, c1) for r0, r1, c0, c1 in merged}
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if (r, c) in starts:
                sheet.write_merge(r, starts[(r, c)][0], c, starts[(r, c)][1], value)
            elif value not in (None, "") and not any(
                r0 <= r <= r1 and c0 <= c <= c1 for r0, r1, c0, c1 in merged
            ):
                sheet.write(r, c, value)
    book.save(str(HERE / name))


def ods_file(name: str, rows: list[list[object]]) -> None:
    """An OpenDocument spreadsheet, written by odfpy (as LibreOffice and WPS save them)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Sheet1")
    for row in rows:
        tr = TableRow()
        for value in row:
            if isinstance(value, (int, float)):
                cell = TableCell(valuetype="float", value=value)
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(HERE / name))


def encrypted_xlsx(name: str, rows: list[list[object]]) -> None:
    """A workbook saved with a password, encrypted as Office does (msoffcrypto-tool)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO(xlsx_file(name, rows))
    encrypted = io.BytesIO()
    OOXMLFile(plain).encrypt("socorg", encrypted)
    (HERE / name).write_bytes(encrypted.getvalue())


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
    cut = (HEADER + ",备注,网址\n" + GOOD[0] + ",无,http://x\n" + GOOD[1]).encode()
    raw_file("cut_in_character.csv", cut[:-1])  # the last character's last byte not written yet
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
    signed_rows(RNG)
    print("association codes:", E, corrupt_check_character(F))


def signed_rows(rng: random.Random) -> None:
    """Exports as offices sign and annotate them: metadata above a merged header, a signed footer,
    every spreadsheet format, labels written with quotes, brackets and annotations."""
    g, h, k = (make_code("5", "1", "320508", rng) for _ in range(3))
    rows = [[g, "苏州市桥牌协会", "社会团体", "2018-05-06", "正常", 3, "姑苏区5号"],
            [h, "苏州市钓鱼协会", "社会团体", "2017-04-03", "正常", 4, "吴中区6号"],
            [k, "苏州市书法协会", "社会团体", "2016-02-01", "正常", 5, "相城区7号"]]  # fmt: skip
    meta = [
        ["苏州市社会组织登记信息"],
        ["填报单位：苏州市民政局", "", "", "填报日期：2023年10月31日"],
        ["单位：万元"],
    ]
    groups = [["基本信息", "", "", "登记信息", "", "", ""]]
    signature = ["制表人：王小明", "", "审核人：李建国", "", "联系电话：0512-65223344"]
    csv_file(
        "signed_footer.csv",
        [",".join(r) for r in meta] + [HEADER] + [",".join(map(str, r)) for r in rows[:2]]
        + ["合计：2", ",".join(signature), "2023年10月31日"],
    )  # fmt: skip
    xls_file(
        "legacy_merged_header_signed.xls",
        [
            *meta,
            *groups,
            HEADER.split(","),
            *rows,
            ["共 3 条"],
            signature,
            ["注：本表数据截至2023年10月31日"],
        ],
        merged=[(3, 3, 0, 2), (3, 3, 3, 6)],
    )
    ods_file("opendocument.ods", [HEADER.split(","), *rows[:2], ["合计：2"]])
    xlsx_file("macro_enabled.xlsm", [HEADER.split(","), *rows[1:]])
    encrypted_xlsx("password_protected.xlsx", [HEADER.split(","), rows[0]])
    csv_file(
        "grades_annotated.csv",
        ["统一社会信用代码,社会组织名称,社会组织类型,登记状态,评估等级",
         f"{g},甲协会,社会团体（2021年）,正常,4A级（2021年）",
         f"{h},乙协会,社会团体,正常,ＡＡＡ级",
         f"{k},丙协会,社会团体,正常,5A【第三批】"],
    )  # fmt: skip
    m = [make_code("9", "1", "320508", rng) for _ in range(6)]
    csv_file(
        "qualification_labels.csv",
        ["企业名称,统一社会信用代码,认定类型,认定年度",
         f"甲科技有限公司,{m[0]},专精特新“小巨人”企业,2023",
         f"乙科技有限公司,{m[1]},国家级专精特新\"小巨人\"企业,2023",
         f"丙科技有限公司,{m[2]},专精特新「小巨人」企业,2023",
         f"丁科技有限公司,{m[3]},高新技术企业（复审）,2023",
         f"戊科技有限公司,{m[4]},省级专精特新中小企业,2023",
         f"己科技有限公司,{m[5]},专精特新企业,2023"],
    )  # fmt: skip
    funding_lists(rng)


def funding_lists(rng: random.Random) -> None:
    """Purchase-of-service lists as bureaus publish them: amounts with units, names without codes in
    traditional characters, a total line summing the amounts, a required column missing."""
    p = [make_code("5", "1", "320508", rng) for _ in range(3)]
    csv_file(
        "funding_amounts_and_names.csv",
        ["2023年度政府购买社会组织服务项目公示",
         "单位：万元",
         "序号,项目名称,购买主体,承接主体,承接主体统一社会信用代码,合同金额（万元）,年度",
         f"1,行业培训服务项目,苏州市民政局,甲协会,{p[0]},35.5万元,2023",
         "2,政策宣讲服务项目,苏州市商务局,蘇州市機器人產業協會,,120000元,2023",
         f"3,标准制定服务项目,苏州市工业和信息化局,丙协会,{p[2]},\"1,200\",2022",
         f"4,展会组织服务项目,苏州市商务局,丁协会,{p[1]},10万美元,2023",
         f"5,人才评价服务项目,苏州市民政局,戊协会,{p[1]},-3,2023",
         ",合计,,,,\"1,355.5\","],
        encoding="gb18030",
    )  # fmt: skip
    csv_file(
        "funding_no_provider.csv",
        ["项目名称,购买主体,合同金额（万元）,年度", "行业培训服务项目,苏州市民政局,35.5,2023"],
    )  # fmt: skip
    csv_file(
        "funding_bad_name.csv",
        ["项目名称,购买主体,承接主体,合同金额（万元）,年度",
         "行业培训服务项目,苏州市民政局,甲协会,35.5,2023"],
    )  # fmt: skip


if __name__ == "__main__":
    main()
