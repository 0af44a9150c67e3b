with

designated as (
    select * from {{ ref('cluster_associations') }}
),

organizations as (
    select * from {{ ref('int_organizations_located') }}
),

funding as (
    select * from {{ ref('int_funding_matched') }}
),

-- Funded: a project of the last 12 months, judged by year (the lists give the project's year only):
-- this year's or last year's. Unknown (null) on a night without any funding list.
funded as (
    select distinct matched_credit_code as credit_code
    from funding
    where funded_year >= year({{ snapshot_date() }} - interval 12 month)
),

funding_delivered as (
    select count(*) > 0 as delivered from funding
),

final as (
    select
        designated.city_code,
        designated.cluster_code,
        designated.association_credit_code,
        coalesce(organizations.org_name, designated.association_name) as association_name,
        organizations.rating as association_grade,
        coalesce(organizations.is_high_grade, false) as association_is_high_grade,
        case when funding_delivered.delivered then funded.credit_code is not null end as association_funded
    from designated
    cross join funding_delivered
    left join organizations
        on designated.association_credit_code = organizations.credit_code
    left join funded
        on designated.association_credit_code = funded.credit_code
)

select * from final
