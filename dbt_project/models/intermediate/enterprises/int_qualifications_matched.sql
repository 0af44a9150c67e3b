with

qualifications as (
    select * from {{ ref('stg_qualifications__enterprise_qualifications') }}
),

names as (
    select * from {{ ref('int_enterprise_names_indexed') }}
    where match_method = 'normalized_name'
),

current_qualifications as (
    select *
    from qualifications
    where valid_until is null or valid_until >= snapshot_date
),

matched as (
    select
        current_qualifications.*,
        coalesce(
            current_qualifications.credit_code,
            names.credit_code,
            'name:' || current_qualifications.enterprise_name_normalized
        ) as enterprise_key
    from current_qualifications
    left join names
        on current_qualifications.enterprise_name_normalized = names.name_key
)

select * from matched
