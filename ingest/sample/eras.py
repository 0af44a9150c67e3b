"""How an archive's exports looked in their year: what a registry names organizations by, and from when
the associations' lists come (`socorg sample --dates`)."""

from __future__ import annotations

import datetime as dt

# Social organizations got unified social credit codes from 2016 (GB 32100-2015); the exports of 2016
# and 2017 still list the registration certificate number (登记证号) beside them; before 2016 a
# registry names organizations by that number and, where they had one, their organization code
# (组织机构代码, characters 9–17 of the credit code they got later).
CREDIT_CODES_FROM = dt.date(2016, 1, 1)
REGISTRATION_NUMBERS_UNTIL = dt.date(2017, 12, 31)
# An archive's member, qualification and purchase-of-service lists start later than its registry.
LISTS_FROM = dt.date(2021, 1, 1)
# Registration certificate numbers by organization type: 社 social groups, 民 social service
# organizations (民办非企业单位), 基 foundations.
REGISTRATION_MARKS = {"social_group": "社", "social_service_org": "民", "foundation": "基"}


def registry_keys(export_date: dt.date) -> tuple[str, ...]:
    """The columns an archive's registry export of that date names organizations by.

    >>> [registry_keys(dt.date(y, 12, 31)) for y in (2014, 2016, 2020)]
    [('registration_number', 'organization_code'), ('credit_code', 'registration_number'), ('credit_code',)]
    """
    if export_date < CREDIT_CODES_FROM:
        return ("registration_number", "organization_code")
    if export_date <= REGISTRATION_NUMBERS_UNTIL:
        return ("credit_code", "registration_number")
    return ("credit_code",)


# Before credit codes, the share of organizations an export lists without an organization code.
WITHOUT_ORGANIZATION_CODE = 0.3


def lists_delivered(export_date: dt.date) -> bool:
    """Whether an archive's night has member, qualification and purchase-of-service lists."""
    return export_date >= LISTS_FROM
