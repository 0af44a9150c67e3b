with

designated as (
    select * from {{ ref('cluster_associations') }} as associations
    where {{ held_on('associations', snapshot_date()) }}
),

organizations as (
    select * from {{ ref('int_organizations_located') }}
),

funding as (
    select * from {{ ref('int_funding_matched') }}
),

-- The associations whose member lists came tonight (an association without one: its members unknown).
delivered as (
    select distinct association_credit_code from {{ ref('stg_membership__members') }}
),

-- Funded: a project of the last 12 months. The lists give a project's year only (年度; when a list
-- leaves it out, the year in its file name): this year's or last year's projects, none of a later year.
funded as (
    select distinct matched_credit_code as credit_code
    from funding
    where
        coalesce(funded_year, try_cast(list_year as integer))
        between year({{ snapshot_date() }} - interval 12 month) and year({{ snapshot_date() }})
),

-- Whether tonight's lists speak for a city at all: they name at least one of its registered
-- organizations. A city no list covers gets unknown (null), not "not funded".
covered_cities as (
    select distinct city_code
    from funding
    where city_code is not null
),

-- Cities whose export tonight names organizations by a code an association can be found by (a
-- snapshot from before credit codes listing registration numbers alone cannot tell its grade).
matchable_cities as (
    select city_code from organizations
    group by city_code
    having count(organization_code) > 0
),

final as (
    select
        designated.city_code,
        designated.cluster_code,
        designated.association_credit_code,
        coalesce(organizations.org_name, designated.association_name) as association_name,
        organizations.rating as association_grade,
        -- a deregistered association keeps its last grade on record but is not counted as high grade
        case
            when matchable_cities.city_code is not null
                then coalesce(organizations.is_active and organizations.is_high_grade, false)
        end as association_is_high_grade,
        case
            when covered_cities.city_code is not null then funded.credit_code is not null
        end as association_funded,
        delivered.association_credit_code is not null as delivered_members
    from designated
    -- by its credit code; in a snapshot from before credit codes, by the organization code it carries
    left join organizations
        on
            designated.association_credit_code = organizations.credit_code
            or (
                organizations.credit_code is null
                and substr(designated.association_credit_code, 9, 9) = organizations.organization_code
            )
    left join funded
        on designated.association_credit_code = funded.credit_code
    left join covered_cities
        on designated.city_code = covered_cities.city_code
    left join delivered
        on designated.association_credit_code = delivered.association_credit_code
    left join matchable_cities
        on designated.city_code = matchable_cities.city_code
)

select * from final
