with

members as (
    select * from {{ ref('stg_membership__members') }}
    where member_kind = 'organization'
),

names as (
    select * from {{ ref('int_enterprise_names_indexed') }}
),

matched as (
    select
        members.*,
        coalesce(members.member_credit_code, names.credit_code) as resolved_credit_code,
        coalesce(
            members.member_credit_code, names.credit_code, 'name:' || members.member_name_normalized
        ) as member_key,
        case
            when members.member_credit_code is not null then 'credit_code'
            when names.credit_code is not null then 'normalized_name'
            else 'name_only'
        end as match_method
    from members
    left join names
        on members.member_name_normalized = names.name_normalized
),

deduplicated as (
    select *
    from matched
    qualify row_number() over (
        partition by association_credit_code, member_key order by source_file, source_row
    ) = 1
)

select * from deduplicated
