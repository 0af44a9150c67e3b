"""Expectation suites per source, built by small functions with stable names."""

from __future__ import annotations

import datetime as dt

CREDIT_CODE_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
ORG_TYPES = ["social_group", "social_service_org", "foundation", "other"]
ORG_STATUSES = ["active", "deregistered", "revoked"]
MEMBER_KINDS = ["organization", "individual"]
ROLES = ["president", "vice_president", "executive_director", "director", "supervisor", "member"]
MEMBER_STATUSES = ["active", "withdrawn", "suspended"]
QUALIFICATIONS = ["listed", "unicorn", "little_giant", "srdi", "high_tech", "top100_private"]


def registry__organizations(export_date: dt.date):
    """The registry batch: keys present, unique and well-formed; enums known; grades 1–5."""
    import great_expectations.expectations as gxe

    return [
        *[
            gxe.ExpectColumnValuesToNotBeNull(column=c)
            for c in ("credit_code", "org_name", "org_type", "status")
        ],
        gxe.ExpectColumnValuesToBeUnique(column="credit_code"),
        gxe.ExpectColumnValuesToMatchRegex(column="credit_code", regex=CREDIT_CODE_PATTERN),
        gxe.ExpectColumnValuesToBeInSet(column="org_type", value_set=ORG_TYPES),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=ORG_STATUSES),
        gxe.ExpectColumnValuesToBeBetween(column="rating", min_value=1, max_value=5),
        gxe.ExpectColumnValuesToMatchRegex(column="division_code", regex=r"^\d{6}$"),
        gxe.ExpectColumnValuesToMatchRegex(column="city_code", regex=r"^\d{6}$"),
    ]


def membership__members(export_date: dt.date):
    """The membership batch: association known from the file name; member codes and enums valid."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="association_credit_code"),
        gxe.ExpectColumnValuesToMatchRegex(column="association_credit_code", regex=CREDIT_CODE_PATTERN),
        gxe.ExpectColumnValuesToMatchRegex(column="member_credit_code", regex=CREDIT_CODE_PATTERN),
        gxe.ExpectColumnValuesToBeInSet(column="member_kind", value_set=MEMBER_KINDS),
        gxe.ExpectColumnValuesToBeInSet(column="role", value_set=ROLES),
        gxe.ExpectColumnValuesToBeInSet(column="member_status", value_set=MEMBER_STATUSES),
    ]


def qualifications__enterprise_qualifications(export_date: dt.date):
    """The qualification lists: names present, list kinds known, years plausible."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="enterprise_name"),
        gxe.ExpectColumnValuesToBeInSet(column="qualification", value_set=QUALIFICATIONS),
        gxe.ExpectColumnValuesToMatchRegex(column="credit_code", regex=CREDIT_CODE_PATTERN),
        gxe.ExpectColumnValuesToBeBetween(
            column="recognized_year", min_value=1990, max_value=export_date.year
        ),
    ]


SUITES = {
    "registry": registry__organizations,
    "membership": membership__members,
    "qualifications": qualifications__enterprise_qualifications,
}
