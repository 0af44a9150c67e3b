-- Names with the one credit code they go by (from members listed with a code and the
-- qualification lists): as written (exact_name) and normalized (normalized_name).
with

members as (
    select * from {{ ref('stg_membership__members') }}
),

qualifications as (
    select * from {{ ref('stg_qualifications__enterprise_qualifications') }}
),

named_codes as (
    select
        member_name as name_as_written,
        member_name_normalized as name_normalized,
        member_credit_code as credit_code
    from members
    where member_kind = 'organization' and member_credit_code is not null
    union all
    select
        enterprise_name,
        enterprise_name_normalized,
        credit_code
    from qualifications
    where credit_code is not null
),

by_exact_name as (
    select
        'exact_name' as match_method,
        name_as_written as name_key,
        min(credit_code) as credit_code
    from named_codes
    group by name_as_written
    having count(distinct credit_code) = 1
),

by_normalized_name as (
    select
        'normalized_name' as match_method,
        name_normalized as name_key,
        min(credit_code) as credit_code
    from named_codes
    group by name_normalized
    having count(distinct credit_code) = 1
),

unambiguous as (
    select * from by_exact_name
    union all
    select * from by_normalized_name
)

select * from unambiguous
