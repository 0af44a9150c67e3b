"""Every typing rule, once: spellings, empty markers, dates, folding, typed columns, unique keys.

Both typing paths read this module: the Python row path (`ingest.parse.cells`, `ingest.parse.rows`)
applies the rules to a cell, and the DuckDB fast path (`ingest.parse.fast.sql`) generates its SQL from
them. A spelling added here is typed by both; a spelling the SQL cannot apply exactly (full-width
letters, spaces inside, lower case) makes the fast path decline the row to Python, never guess.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pyarrow as pa

# A cell that says "nothing here" (after trimming): null, not a value.
EMPTY_VALUES = {"", "-", "—", "/", "无", "暂无", "N/A", "NA", "NULL", "null", "None"}

# Evaluation grades (社会组织评估等级) 1A–5A, spelled `5A`, `AAAAA`, `5A级` or `AAAAA级` (compared as
# labels are, see label_key: `５Ａ级（2021年）` is 5); the spellings of "not evaluated" type as null.
NOT_EVALUATED = ("未评估", "未评", "无等级")
GRADE_SPELLINGS: dict[str, int | None] = {
    **{spelling: g for g in range(1, 6) for spelling in (f"{g}A", "A" * g, f"{g}A级", f"{'A' * g}级")},
    **dict.fromkeys(NOT_EVALUATED),
}

# Date spellings, each a regular expression (Python `re` and DuckDB's RE2 alike) whose three groups are
# year, month and day; compared after folding full-width digits and removing spaces and a time of day.
DATE_SPELLINGS = (
    r"(\d{4})-(\d{1,2})-(\d{1,2})",
    r"(\d{4})/(\d{1,2})/(\d{1,2})",
    r"(\d{4})\.(\d{1,2})\.(\d{1,2})",
    r"(\d{4})年(\d{1,2})月(\d{1,2})日?",
    r"(\d{4})(\d{2})(\d{2})",
)
TIME_OF_DAY = r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$"  # dropped from the end of a date cell
EXCEL_SERIAL = r"\d{5}(\.\d+)?"  # a date Excel stored as its day number, typed as text
EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_SERIAL_RANGE = (1, 2958466)  # day numbers Excel can show as a date (1900-01-01 … 9999-12-31)

# Character folding of names (their matching form): NFKC folds full-width forms such as （） to ASCII;
# the other bracket forms offices use become round brackets; whitespace goes.
FULL_WIDTH_BRACKETS = {"（": "(", "）": ")"}
BRACKETS = {"【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")"}

# Labels (every enumerated cell and the grade) mean what they say whatever the punctuation: they are
# compared by label_key, which folds full-width letters, digits and brackets (NFKC), every other bracket
# form to round ones, drops every quote form and all whitespace, an annotation in brackets that keeps
# the meaning (`（2021年）`, `（第三批）`, `（复审）`; see _ANNOTATION) and a trailing 级, and compares
# letters upper case. So `专精特新“小巨人”企业`, `专精特新"小巨人"企业` and `专精特新「小巨人」企业`
# are one label.
QUOTES = "\"'“”‘’「」『』〝〞〟‚„‹›«»"
LABEL_SUFFIX = "级"
# Annotations that do not change what a label means: a year, a batch, a review, a listing board.
# Others (（拟认定）, （培育）) do, and keep the label unknown.
_ANNOTATION = re.compile(
    r"\((?:\d{4}年?度?|第[一二三四五六七八九十百\d]+批次?|复审|复核|重新认定|[ABH]股|主板|创业板|科创板|北交所)\)"
)
_LABEL_DROPPED = re.compile(f"[\\s{re.escape(QUOTES)}]")


def label_key(label: str) -> str:
    """The form in which labels are compared (see above).

    >>> [label_key(x) for x in ["专精特新“小巨人”企业", "４Ａ级（2021年）", "高新技术企业【复审】", "5a"]]
    ['专精特新小巨人企业', '4A', '高新技术企业', '5A']
    """
    folded = unicodedata.normalize("NFKC", label)
    for other, round_bracket in BRACKETS.items():
        folded = folded.replace(other, round_bracket)
    folded = _LABEL_DROPPED.sub("", folded)
    folded = _ANNOTATION.sub("", folded) or folded  # a label that is all annotation stays as it is
    return (folded.removesuffix(LABEL_SUFFIX) or folded).upper()


# Enumerated cells: spelling → canonical value (spellings compared by label_key), and the quarantine
# reason of a label not listed. Only real synonyms are listed. The canonical values are what GX's
# suites accept (ingest.validate.suites).
ENUMS: dict[str, tuple[dict[str, str], str]] = {
    "org_type": (
        {
            "社会团体": "social_group",
            "社团": "social_group",
            "社会服务机构": "social_service_org",
            "民办非企业单位": "social_service_org",
            "民非": "social_service_org",
            "基金会": "foundation",
            "其他": "other",
        },
        "org_type_unknown",
    ),
    "org_status": (
        {
            "正常": "active",
            "存续": "active",
            "已注销": "deregistered",
            "注销": "deregistered",
            "已撤销": "revoked",
            "撤销": "revoked",
        },
        "status_unknown",
    ),
    "member_kind": (
        {"单位会员": "organization", "企业会员": "organization", "个人会员": "individual"},
        "member_kind_unknown",
    ),
    "member_role": (
        {
            "会长单位": "president",
            "副会长单位": "vice_president",
            "常务理事单位": "executive_director",
            "理事单位": "director",
            "监事单位": "supervisor",
            "会员单位": "member",
            "会员": "member",
            # Membership classes of national associations (the Asset Management Association of China's
            # 协会会员 column): ordinary, associate, special and observer members.
            "普通会员": "member",
            "联席会员": "associate_member",
            "特别会员": "special_member",
            "观察会员": "observer_member",
        },
        "role_unknown",
    ),
    "member_status": (
        {"正常": "active", "已退会": "withdrawn", "退会": "withdrawn", "暂停": "suspended"},
        "member_status_unknown",
    ),
    # National and provincial lists are different lists (domain.md): the ministry of industry (MIIT)
    # publishes the national 专精特新“小巨人”企业 lists (titled 国家级 by the provinces that forward
    # them); the provinces publish 省级专精特新中小企业 lists, which are SRDI, never little giants.
    # 高新技术企业 certificates are issued as 国家高新技术企业 (科技部 火炬中心).
    "qualification": (
        {
            "上市公司": "listed",
            "独角兽企业": "unicorn",
            "专精特新“小巨人”企业": "little_giant",
            '专精特新"小巨人"企业': "little_giant",
            "专精特新小巨人企业": "little_giant",
            "国家级专精特新“小巨人”企业": "little_giant",
            "小巨人企业": "little_giant",
            "专精特新中小企业": "srdi",
            "省级专精特新中小企业": "srdi",
            "高新技术企业": "high_tech",
            "国家高新技术企业": "high_tech",
            "民营企业100强": "top100_private",
        },
        "qualification_unknown",
    ),
    # Annual inspection conclusions (domain.md "Standing"; 社会团体年度检查办法): 合格, 基本合格, 不合格,
    # or no part taken. Offices add the consequence in brackets (基本合格（整改）, 不合格（限期整改）).
    # Regions that replaced the inspection with the annual report duty publish whether it was filed.
    "inspection_result": (
        {
            "合格": "passed",
            "年检合格": "passed",
            "检查合格": "passed",
            "已报送": "passed",
            "已提交": "passed",
            "基本合格": "passed_with_remarks",
            "年检基本合格": "passed_with_remarks",
            "基本合格(整改)": "passed_with_remarks",
            "基本合格(限期整改)": "passed_with_remarks",
            "不合格": "failed",
            "年检不合格": "failed",
            "不合格(限期整改)": "failed",
            "不合格(责令整改)": "failed",
            "未参检": "not_inspected",
            "未参加年检": "not_inspected",
            "未参加年度检查": "not_inspected",
            "未年检": "not_inspected",
            "未报送": "not_inspected",
            "未提交": "not_inspected",
        },
        "inspection_result_unknown",
    ),
    # The two credit lists of social organizations (社会组织信用信息管理办法): 活动异常名录 and
    # 严重违法失信名单.
    "credit_list_kind": (
        {
            "活动异常名录": "abnormal",
            "社会组织活动异常名录": "abnormal",
            "异常名录": "abnormal",
            "活动异常": "abnormal",
            "严重违法失信名单": "serious_violation",
            "社会组织严重违法失信名单": "serious_violation",
            "严重违法失信名录": "serious_violation",
            "严重违法失信": "serious_violation",
        },
        "credit_list_kind_unknown",
    ),
}

# A credit list file's title line (`苏州市民政局社会组织活动异常名录（2024年第3批）`) names its list by one of
# these words (layout option `title_column`): the first found decides.
TITLE_WORDS = {
    "credit_list_kind": (
        ("严重违法失信", "serious_violation"),
        ("活动异常", "abnormal"),
        ("异常名录", "abnormal"),
    )
}


def title_label(kind: str, titles: list[str]) -> str | None:
    """The label of an enumerated column the lines above a header name (TITLE_WORDS), as first spelled.

    >>> title_label("credit_list_kind", ["苏州市民政局社会组织活动异常名录（2024年第1批）"])
    '活动异常名录'
    """
    found = next((value for word, value in TITLE_WORDS.get(kind, ()) if any(word in t for t in titles)), None)
    return next((spelling for spelling, value in ENUMS[kind][0].items() if value == found), None)


def canonical_values(kind: str) -> list[str]:
    """The canonical values of an enumerated column type, in first-spelled order."""
    return list(dict.fromkeys(ENUMS[kind][0].values()))


# Column types of the layouts and the Arrow type each is typed to in raw/.
ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "name": pa.string(),
    "credit_code": pa.string(),
    "org_code": pa.string(),  # organization code (组织机构代码, GB 11714): 8 characters and a check
    "identifier": pa.string(),  # a number as written (登记证号): half-width, without spaces (IDENTIFIER_SAFE)
    "division": pa.string(),
    "date": pa.date32(),
    "amount": pa.decimal128(18, 4),
    "grade": pa.int8(),
    "year": pa.int16(),
    "money": pa.decimal128(18, 2),  # 元, signed (a loss on investments); 万元 where the header or a line says
    "count": pa.int32(),  # people: staff, volunteers, members
    **{kind: pa.string() for kind in ENUMS},
}
NORMALIZED_SUFFIX = "_normalized"  # a name column is followed by its matching form
# An enumerated or grade column is followed in raw/ by its label as the office wrote it (trimmed; null
# when empty or derived): the canonical value says what it means, the label what the export said.
LABELLED_TYPES = (*ENUMS, "grade")
LABEL_COLUMN_SUFFIX = "_label"

# The second and third characters of a credit code are its registering department and category:
# 51–59 are civil affairs' social organizations (the layout option `derive: credit_code_category`).
CREDIT_CODE_CATEGORIES = {"51": "social_group", "52": "social_service_org", "53": "foundation", "59": "other"}

# An identifier cell (a registration certificate number) is compared folded (NFKC) and without spaces:
# `深社证字第 00012 号` and `深社证字第00012号` are one number. Text of these characters is already so.
IDENTIFIER_SAFE = r"[\x21-\x7E\x{4E00}-\x{9FFF}]*"


def identifier(text: str) -> str:
    """An identifier as compared (see IDENTIFIER_SAFE).

    >>> identifier("深社证字第 00012 号"), identifier("苏民证字（２０１２）第1号")
    ('深社证字第00012号', '苏民证字(2012)第1号')
    """
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


# A layout's `unique_key`, when not a single column: the first present of `either`, joined by `|` with
# each of `and_also` (all of them present, else no key). Repeats within one file are quarantined.
UNIQUE_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    # An organization of a registry: its credit code, or before credit codes its organization code or
    # registration number. A repeat names the column its key came from (duplicate_credit_code, …).
    "org_key": {"either": ("credit_code", "organization_code", "registration_number"), "and_also": ()},
    "member_key": {"either": ("member_credit_code", "member_name_normalized"), "and_also": ()},
    "qualification_key": {
        "either": ("credit_code", "enterprise_name_normalized"),
        "and_also": ("qualification",),
    },
    # A project listed twice for the same provider in one file (a copied row) would count its amount twice.
    "funding_key": {
        "either": ("provider_credit_code", "provider_name_normalized"),
        "and_also": ("project_name", "purchaser"),
    },
    # An organization once per inspection list and year (a re-delivered list replaces the year's).
    "inspection_key": {"either": ("credit_code", "org_name_normalized"), "and_also": ("inspection_year",)},
    "annual_report_key": {"either": ("credit_code", "org_name_normalized"), "and_also": ("report_year",)},
    "credit_list_key": {
        "either": ("credit_code", "org_name_normalized"),
        "and_also": ("list_kind", "included_on"),
    },
}

# Amount units: a header annotated with its unit (`收入合计（万元）`, `净资产(单位:元)`), or a line above the
# header (`单位：万元`, `金额单位:万元`) for every money column of the file; a cell's own unit wins.
UNIT_SCALES = {"元": 1, "万元": 10_000}
HEADER_UNIT = r"\((?:金额)?(?:单位[:：]?)?(?:人民币)?(?P<unit>万元|元)(?:人民币)?\)$"
TITLE_UNIT = r"单位[:：]?(?:人民币)?(?P<unit>万元|元)"


# Keys of alternatives named by the column they came from: a row's key is its first present part, and
# a repeat is quarantined as `duplicate_<that column>` (a row named by its credit code is not checked
# for the registration number it also lists).
NAMED_BY_COLUMN = ("org_key",)


def unique_key_parts(unique_key: str) -> dict[str, tuple[str, ...]]:
    """A unique key's parts; a plain column name is a key of that column alone."""
    return UNIQUE_KEYS.get(unique_key, {"either": (unique_key,), "and_also": ()})


# Personal data. Columns are marked `personal: true` in their layout and never typed; in membership
# exports a member of the kind spelled with 个人 is a person, whose name and code are personal too.
INDIVIDUAL_MARK = "个人"
INDIVIDUAL_KIND = "individual"  # its canonical member_kind
INDIVIDUAL_COLUMNS = ("member_name", "member_credit_code")
SPACES = (" ", "\t", "\u3000", "\u00a0")  # as offices space out 个 人 会 员
