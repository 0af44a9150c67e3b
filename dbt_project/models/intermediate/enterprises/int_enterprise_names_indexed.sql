-- Names with the one credit code they go by (from members listed with a code and the
-- qualification lists): as written (exact_name) and normalized (normalized_name). Only the names
-- somebody looks up are indexed (members and qualification rows without a code): at national size
-- that is a quarter of the names, and the lookups in int_members_matched build on the smaller index.
with

members as (
    select * from {{ ref('stg_membership__members') }}
    where member_kind = 'organization'
),

qualifications as (
    select * from {{ ref('stg_qualifications__enterprise_qualifications') }}
),

sought_as_written as (
    select member_name as name_key
    from members
    where member_credit_code is null
),

-- int_members_matched and int_qualifications_matched look up normalized names
sought_normalized as (
    select member_name_normalized as name_key
    from members
    where member_credit_code is null
    union all
    select enterprise_name_normalized
    from qualifications
    where credit_code is null
),

named_codes as (
    select
        member_name as name_as_written,
        member_name_normalized as name_normalized,
        member_credit_code as credit_code
    from members
    where member_credit_code is not null
    union all
    select
        enterprise_name,
        enterprise_name_normalized,
        credit_code
    from qualifications
    where credit_code is not null
),

-- one code: min = max (cheaper than counting distinct codes per name)
by_exact_name as (
    select
        'exact_name' as match_method,
        named_codes.name_as_written as name_key,
        min(named_codes.credit_code) as credit_code
    from named_codes
    semi join sought_as_written
        on named_codes.name_as_written = sought_as_written.name_key
    group by named_codes.name_as_written
    having min(named_codes.credit_code) = max(named_codes.credit_code)
),

by_normalized_name as (
    select
        'normalized_name' as match_method,
        named_codes.name_normalized as name_key,
        min(named_codes.credit_code) as credit_code
    from named_codes
    semi join sought_normalized
        on named_codes.name_normalized = sought_normalized.name_key
    group by named_codes.name_normalized
    having min(named_codes.credit_code) = max(named_codes.credit_code)
),

unambiguous as (
    select * from by_exact_name
    union all
    select * from by_normalized_name
)

select * from unambiguous
