with

organizations as (
    select * from {{ ref('int_organizations_located') }}
),

divisions as (
    select * from {{ ref('divisions') }}
),

province_names as (
    select
        division_code as province_code,
        division_name as province_name
    from divisions
    where level = 'province'
),

-- The cities expected to deliver: prefecture-level ones, not the province's directly administered
-- counties (省直辖县级行政区划, 重庆 县), which have no registry of a city of their own.
province_cities as (
    select
        province_code,
        count(*) as expected_city_count
    from divisions
    where level = 'city' and division_name not like '%直辖%' and division_name != '县'
    group by province_code
),

delivered_cities as (
    select distinct organizations.export_city_code as city_code
    from organizations
),

cities_delivered as (
    select
        divisions.province_code,
        count(*) as city_count
    from delivered_cities
    inner join divisions
        on delivered_cities.city_code = divisions.division_code
    where divisions.level = 'city'
    group by divisions.province_code
),

organization_counts as (
    select
        divisions.province_code,
        {{ active_org_counts() }}
    from organizations
    inner join divisions
        on organizations.city_code = divisions.division_code
    group by divisions.province_code
),

final as (
    select
        organization_counts.province_code,
        province_names.province_name,
        organization_counts.active_org_count,
        organization_counts.social_group_count,
        organization_counts.social_service_org_count,
        organization_counts.foundation_count,
        coalesce(cities_delivered.city_count, 0) as city_count,
        coalesce(province_cities.expected_city_count, 0) as expected_city_count,
        coalesce(cities_delivered.city_count, 0)
        = coalesce(province_cities.expected_city_count, 0) as is_complete,
        {{ snapshot_date() }} as snapshot_date
    from organization_counts
    left join province_names
        on organization_counts.province_code = province_names.province_code
    left join province_cities
        on organization_counts.province_code = province_cities.province_code
    left join cities_delivered
        on organization_counts.province_code = cities_delivered.province_code
)

select * from final
