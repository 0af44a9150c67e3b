with

members as (
    select * from {{ ref('stg_membership__members') }}
),

qualifications as (
    select * from {{ ref('stg_qualifications__enterprise_qualifications') }}
),

named_codes as (
    select
        member_name_normalized as name_normalized,
        member_credit_code as credit_code
    from members
    where member_kind = 'organization' and member_credit_code is not null
    union all
    select
        enterprise_name_normalized,
        credit_code
    from qualifications
    where credit_code is not null
),

unambiguous as (
    select
        name_normalized,
        min(credit_code) as credit_code
    from named_codes
    group by name_normalized
    having count(distinct credit_code) = 1
)

select * from unambiguous
