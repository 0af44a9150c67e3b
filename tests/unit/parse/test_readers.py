"""Reading an export (ingest.parse.readers): encoding, the header below title rows, the footer's total."""

from __future__ import annotations

import pytest

from ingest.common.errors import ExportError
from ingest.parse.readers import open_export
from ingest.rules.layouts import load_layout

HEADER = "统一社会信用代码,社会组织名称,社会组织类型,登记状态"
ROW = "51320508MJ0000000X,甲协会,社会团体,正常"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_the_header_is_found_below_title_rows_in_any_encoding(encoding, tmp_path):
    path = tmp_path / "registry_320500_20231031.csv"
    lines = ["苏州市社会组织名录", "导出日期：2023-10-31", HEADER, ROW, ROW, "合计：2"]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    export = open_export(path, load_layout("registry"))
    assert export.encoding == encoding and export.header_row == 3 and export.title_rows == 2
    assert [name for _, name in ((i, c.name) for i, c in export.columns)] == [
        "credit_code", "org_name", "org_type", "status"
    ]  # fmt: skip
    records = list(export.records())
    assert len(records) == 2 and records[0][0] == 4
    assert export.footer_total == 2


def test_a_file_without_a_header_names_the_file(tmp_path):
    path = tmp_path / "registry_320500_20231031.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(ExportError, match="registry_320500_20231031.csv: has no recognizable header row"):
        open_export(path, load_layout("registry"))


def test_a_signed_footer_is_not_data_and_a_signature_inside_the_data_is_quarantined_unkept(tmp_path):
    path = tmp_path / "registry_320500_20231031.csv"
    signature = "制表人：王小明,审核人：李建国,联系电话：13912345678"
    lines = [
        "填报单位：苏州市民政局",
        HEADER,
        ROW,
        signature,
        ROW.replace("甲", "乙"),
        "合计：3",
        signature,
        "2023年10月31日",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    export = open_export(path, load_layout("registry"))
    records = list(export.records())
    assert [(n, problem) for n, _, problem in records] == [
        (3, None),
        (4, "footer_line_inside_data"),
        (5, None),
    ]
    assert set(records[1][1].values()) == {None}  # nothing of the signature is kept
    assert (export.footer_total, export.footer_rows) == (3, 3)
