-- Where the organizations no city's list of divisions holds are counted: those the ministry (100000)
-- or a province itself (xx0000) registered, counted in no city (a province's in province_summary), and
-- those of a county the division list lacks, counted in the city of its first four digits.
with

organizations as (
    select * from {{ ref('int_organizations_located') }}
    where placed_by in ('own_registrar', 'unlisted_division')
),

divisions as (
    select * from {{ ref('divisions') }}
),

counted as (
    select
        division_code as registrar_code,
        case
            when division_code = '100000' then 'ministry'
            when placed_by = 'own_registrar' then 'province'
            else 'unlisted_division'
        end as placement,
        case when placed_by = 'unlisted_division' then city_code end as counted_in_city_code,
        count(*) as org_count,
        count(*) filter (where is_active) as active_org_count
    from organizations
    group by all
),

final as (
    select
        counted.registrar_code,
        case
            when counted.placement = 'ministry' then '民政部'
            else coalesce(divisions.division_name, '未知区划 ' || counted.registrar_code)
        end as registrar_name,
        counted.placement,
        counted.counted_in_city_code,
        case when counted.placement <> 'ministry' then substr(counted.registrar_code, 1, 2) || '0000' end
            as province_code,
        counted.org_count,
        counted.active_org_count,
        {{ snapshot_date() }} as snapshot_date
    from counted
    left join divisions
        on counted.registrar_code = divisions.division_code
)

select * from final
