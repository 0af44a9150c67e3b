with

qualifications as (
    select * from {{ ref('int_qualifications_matched') }}
),

flags as (
    select
        enterprise_key,
        bool_or(qualification = 'listed') as is_listed,
        bool_or(qualification = 'unicorn') as is_unicorn,
        bool_or(qualification = 'little_giant') as is_little_giant,
        bool_or(qualification = 'srdi') as is_srdi,
        bool_or(qualification = 'high_tech') as is_high_tech,
        bool_or(qualification = 'top100_private') as is_top100_private
    from qualifications
    group by enterprise_key
)

select * from flags
