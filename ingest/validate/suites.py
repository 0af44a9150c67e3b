"""Expectation suites per source, with severities: `error` (GX critical) stops the run, `warning` is reported.

Columns ending in `_occurrences` or starting with `association_registry_` are derived over the whole
night in DuckDB (ingest.validate.batches) so that checks across chunks stay exact; so are the parts of
the credit code (`credit_code_category_org_type`: "51 social_group", `credit_code_division`).
"""

from __future__ import annotations

import datetime as dt

from ingest.rules.typing_rules import CREDIT_CODE_CATEGORIES, canonical_values

# The canonical values the parse types each enumerated column to (ingest.rules.typing_rules).
ORG_TYPES = canonical_values("org_type")
ORG_STATUSES = canonical_values("org_status")
MEMBER_KINDS = canonical_values("member_kind")
ROLES = canonical_values("member_role")
MEMBER_STATUSES = canonical_values("member_status")
QUALIFICATIONS = canonical_values("qualification")
INSPECTION_RESULTS = canonical_values("inspection_result")
CREDIT_LIST_KINDS = canonical_values("credit_list_kind")
# The category characters of a social organization's code (positions 1–2) and its type (domain.md).
CATEGORY_TYPES = list(CREDIT_CODE_CATEGORIES.items())
ERROR, WARNING = "critical", "warning"
SEVERITY_NAMES = {ERROR: "error", WARNING: "warning", "info": "info"}
# The suites hold no dates: the night's export date comes in as parameters (night_parameters), so a
# stored suite is the same every night.
EXPORT_MIDNIGHT = {"$PARAMETER": "export_midnight"}
EXPORT_YEAR = {"$PARAMETER": "export_year"}


def registry__organizations():
    """The registry batch: every organization named by a credit code (or, before credit codes, an
    organization code or registration number), each unique in the night; codes valid and consistent
    with the type; known enums, divisions, dates."""
    import great_expectations.expectations as gxe

    from ingest.validate import expectations as socorg

    return [
        *[
            gxe.ExpectColumnValuesToNotBeNull(column=c, severity=ERROR)
            for c in ("org_key", "org_name", "org_type", "status")
        ],
        socorg.ExpectColumnValuesToBeValidCreditCode(column="credit_code", severity=ERROR),
        *[
            gxe.ExpectColumnValuesToBeBetween(column=f"{c}_occurrences", max_value=1, severity=ERROR)
            for c in ("credit_code", "organization_code", "registration_number")
        ],
        gxe.ExpectColumnValuesToBeInSet(
            column="credit_code_category_org_type",
            value_set=[f"{category} {org_type}" for category, org_type in CATEGORY_TYPES],
            severity=ERROR,
        ),
        gxe.ExpectColumnValuesToBeInSet(column="org_type", value_set=ORG_TYPES, severity=ERROR),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=ORG_STATUSES, severity=ERROR),
        gxe.ExpectColumnValuesToBeBetween(column="rating", min_value=1, max_value=5, severity=ERROR),
        gxe.ExpectColumnValuesToBeBetween(column="registered_on", max_value=EXPORT_MIDNIGHT, severity=ERROR),
        socorg.ExpectColumnValuesToBeKnownDivision(column="division_code", severity=WARNING),
        socorg.ExpectColumnValuesToBeKnownDivision(column="credit_code_division", severity=WARNING),
        gxe.ExpectColumnValuesToMatchRegex(column="city_code", regex=r"^\d{6}$", severity=ERROR),
    ]


def membership__members():
    """The membership batch: its association an active social group in tonight's registry; members valid."""
    import great_expectations.expectations as gxe

    from ingest.validate import expectations as socorg

    return [
        socorg.ExpectColumnValuesToBeValidCreditCode(column="association_credit_code", severity=ERROR),
        gxe.ExpectColumnValuesToBeInSet(
            column="association_registry_standing", value_set=["active social_group"], severity=ERROR
        ),
        socorg.ExpectColumnValuesToBeValidCreditCode(column="member_credit_code", severity=ERROR),
        gxe.ExpectColumnValuesToBeBetween(column="member_occurrences", max_value=1, severity=ERROR),
        gxe.ExpectColumnValuesToBeInSet(column="member_kind", value_set=MEMBER_KINDS, severity=ERROR),
        gxe.ExpectColumnValuesToBeInSet(column="role", value_set=ROLES, severity=ERROR),
        gxe.ExpectColumnValuesToBeInSet(column="member_status", value_set=MEMBER_STATUSES, severity=ERROR),
        gxe.ExpectColumnValuesToBeBetween(column="joined_on", max_value=EXPORT_MIDNIGHT, severity=WARNING),
    ]


def qualifications__enterprise_qualifications():
    """The qualification lists: names present, codes valid, list kinds known, years plausible."""
    import great_expectations.expectations as gxe

    from ingest.validate import expectations as socorg

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="enterprise_name", severity=ERROR),
        socorg.ExpectColumnValuesToBeValidCreditCode(column="credit_code", severity=ERROR),
        gxe.ExpectColumnValuesToBeInSet(column="qualification", value_set=QUALIFICATIONS, severity=ERROR),
        gxe.ExpectColumnValuesToBeBetween(
            column="recognized_year", min_value=1990, max_value=EXPORT_YEAR, severity=WARNING
        ),
    ]


def funding__projects():
    """Purchase-of-service lists: project, purchaser, provider present; codes valid; years plausible."""
    import great_expectations.expectations as gxe

    from ingest.validate import expectations as socorg

    return [
        *[
            gxe.ExpectColumnValuesToNotBeNull(column=c, severity=ERROR)
            for c in ("project_name", "purchaser", "provider_name")
        ],
        socorg.ExpectColumnValuesToBeValidCreditCode(column="provider_credit_code", severity=ERROR),
        gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0, severity=ERROR),
        gxe.ExpectColumnValuesToNotBeNull(column="amount", severity=WARNING),
        gxe.ExpectColumnValuesToBeBetween(
            column="funded_year", min_value=2000, max_value=EXPORT_YEAR, severity=WARNING
        ),
    ]


def inspections__conclusions():
    """Inspection lists: each row names its organization, a known conclusion, a year not after the export."""
    import great_expectations.expectations as gxe

    from ingest.validate import expectations as socorg

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="org_key", severity=ERROR),
        socorg.ExpectColumnValuesToBeValidCreditCode(column="credit_code", severity=ERROR),
        gxe.ExpectColumnValuesToBeInSet(column="result", value_set=INSPECTION_RESULTS, severity=ERROR),
        gxe.ExpectColumnValuesToBeBetween(
            column="inspection_year", min_value=1990, max_value=EXPORT_YEAR, severity=ERROR
        ),
        gxe.ExpectColumnValuesToBeBetween(column="inspected_on", max_value=EXPORT_MIDNIGHT, severity=WARNING),
    ]


def annual_reports__reports():
    """Annual reports: the organization and year named; counts of people not negative."""
    import great_expectations.expectations as gxe

    from ingest.validate import expectations as socorg

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="org_key", severity=ERROR),
        socorg.ExpectColumnValuesToBeValidCreditCode(column="credit_code", severity=ERROR),
        gxe.ExpectColumnValuesToBeBetween(
            column="report_year", min_value=1990, max_value=EXPORT_YEAR, severity=ERROR
        ),
        *[
            gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, severity=ERROR)
            for c in ("full_time_staff", "volunteers", "members")
        ],
        gxe.ExpectColumnValuesToBeBetween(column="expense_total", min_value=0, severity=WARNING),
    ]


def credit_lists__entries():
    """Credit lists: a known list, an inclusion date not after the export, a removal not before it."""
    import great_expectations.expectations as gxe

    from ingest.validate import expectations as socorg

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="org_key", severity=ERROR),
        socorg.ExpectColumnValuesToBeValidCreditCode(column="credit_code", severity=ERROR),
        gxe.ExpectColumnValuesToBeInSet(column="list_kind", value_set=CREDIT_LIST_KINDS, severity=ERROR),
        gxe.ExpectColumnValuesToBeBetween(column="included_on", max_value=EXPORT_MIDNIGHT, severity=ERROR),
        gxe.ExpectColumnValuesToBeBetween(column="removed_on", max_value=EXPORT_MIDNIGHT, severity=ERROR),
    ]


def night_parameters(export_date: dt.date) -> dict:
    """Values of the suites' parameters for one night (GX `expectation_parameters`).

    Dates reach GX as datetime64, so the export date is compared as its midnight.
    """
    return {
        "export_midnight": dt.datetime.combine(export_date, dt.time()),
        "export_year": export_date.year,
    }


SUITES = {
    "registry": registry__organizations,
    "membership": membership__members,
    "qualifications": qualifications__enterprise_qualifications,
    "funding": funding__projects,
    "inspections": inspections__conclusions,
    "annual_reports": annual_reports__reports,
    "credit_lists": credit_lists__entries,
}
