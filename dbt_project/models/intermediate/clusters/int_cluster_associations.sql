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

-- An association is found by its credit code; in a snapshot from before credit codes, by the
-- organization code its credit code carries or, that code left blank, by its name as registered in its
-- city (one organization each, in that order of preference).
matches as (
    select
        designated.association_credit_code,
        organizations.org_id,
        organizations.org_name,
        organizations.rating,
        organizations.is_active,
        organizations.is_high_grade,
        row_number() over (
            partition by designated.association_credit_code
            order by
                case
                    when designated.association_credit_code = organizations.credit_code then 1
                    when substr(designated.association_credit_code, 9, 9) = organizations.organization_code
                        then 2
                    else 3
                end,
                organizations.org_id
        ) as preference
    from designated
    inner join organizations
        on
            designated.association_credit_code = organizations.credit_code
            or (
                organizations.credit_code is null
                and substr(designated.association_credit_code, 9, 9) = organizations.organization_code
            )
            or (
                organizations.credit_code is null
                and designated.city_code = organizations.city_code
                and organizations.org_name_normalized
                = replace(replace(replace(designated.association_name, '（', '('), '）', ')'), ' ', '')
            )
),

found as (
    select * from matches
    where preference = 1
),

-- Cities whose export names every organization by its credit code tonight: an association not found
-- there is not registered. Elsewhere it may be registered under a key it cannot be found by: unknown.
credit_coded_cities as (
    select city_code from organizations
    group by city_code
    having count(*) = count(credit_code)
),

final as (
    select
        designated.city_code,
        designated.cluster_code,
        designated.association_credit_code,
        coalesce(found.org_name, designated.association_name) as association_name,
        found.rating as association_grade,
        case
            when found.org_id is not null then true
            when credit_coded_cities.city_code is not null then false
        end as association_registered,
        -- a deregistered association keeps its last grade on record but is not counted as high grade
        case
            when found.org_id is not null then coalesce(found.is_active and found.is_high_grade, false)
            when credit_coded_cities.city_code is not null then false
        end as association_is_high_grade,
        case
            when covered_cities.city_code is not null then funded.credit_code is not null
        end as association_funded,
        delivered.association_credit_code is not null as delivered_members,
        -- eligible for grade evaluation (int_organization_standing); unknown for one not found
        standing.eligible_for_evaluation as association_in_good_standing,
        standing.standing_reason as association_standing_reason
    from designated
    left join found
        on designated.association_credit_code = found.association_credit_code
    left join funded
        on designated.association_credit_code = funded.credit_code
    left join covered_cities
        on designated.city_code = covered_cities.city_code
    left join delivered
        on designated.association_credit_code = delivered.association_credit_code
    left join credit_coded_cities
        on designated.city_code = credit_coded_cities.city_code
    left join {{ ref('int_organization_standing') }} as standing
        on found.org_id is not null and designated.association_credit_code = standing.credit_code
)

select * from final
