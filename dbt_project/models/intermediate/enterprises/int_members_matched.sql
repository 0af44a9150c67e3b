with

members as (
    select * from {{ ref('stg_membership__members') }}
    where member_kind = 'organization'
),

names as (
    select * from {{ ref('int_enterprise_names_indexed') }}
),

exact_names as (
    select * from names
    where match_method = 'exact_name'
),

normalized_names as (
    select * from names
    where match_method = 'normalized_name'
),

matched as (
    select
        members.*,
        coalesce(
            members.member_credit_code, exact_names.credit_code, normalized_names.credit_code
        ) as resolved_credit_code,
        coalesce(
            members.member_credit_code,
            exact_names.credit_code,
            normalized_names.credit_code,
            'name:' || members.member_name_normalized
        ) as member_key,
        case
            when members.member_credit_code is not null then 'credit_code'
            when exact_names.credit_code is not null then 'exact_name'
            when normalized_names.credit_code is not null then 'normalized_name'
            else 'unmatched'
        end as match_method
    from members
    left join exact_names
        on members.member_name = exact_names.name_key
    left join normalized_names
        on members.member_name_normalized = normalized_names.name_key
),

deduplicated as (
    select *
    from matched
    qualify row_number() over (
        partition by association_credit_code, member_key order by source_file, source_row
    ) = 1
)

select * from deduplicated
