-- Per city, the standing figures of the night: the last inspection year its organizations were listed
-- for, how many took part (合格, 基本合格 or 不合格) and the share that passed (合格 or 基本合格), and how
-- many organizations are on a credit list. Null where no list was ever delivered, not 0.
with

located as (
    select
        credit_code,
        city_code
    from {{ ref('int_organizations_located') }}
    where credit_code is not null
),

results as (
    select
        located.city_code,
        results.inspection_year,
        results.result
    from {{ ref('int_inspection_results') }} as results
    inner join located
        on results.credit_code = located.credit_code
),

by_year as (
    select
        city_code,
        inspection_year,
        count(*) filter (where result in ('passed', 'passed_with_remarks', 'failed')) as inspected_count,
        count(*) filter (where result in ('passed', 'passed_with_remarks')) as passed_count
    from results
    group by city_code, inspection_year
),

last_year as (
    select * from by_year
    qualify inspection_year = max(inspection_year) over (partition by city_code)
),

credit as (
    select
        city_code,
        count(*) filter (where on_credit_list) as on_credit_list_count
    from {{ ref('int_organization_standing') }}
    group by city_code
),

lists_held as (
    select count(*) > 0 as held from {{ ref('stg_credit_lists__entries') }}
),

cities as (
    select distinct city_code from located
),

final as (
    select
        cities.city_code,
        cast(last_year.inspection_year as integer) as inspection_year,
        last_year.inspected_count,
        cast(last_year.passed_count as double)
        / nullif(last_year.inspected_count, 0) as inspection_passed_share,
        case when (select lists_held.held from lists_held) then coalesce(credit.on_credit_list_count, 0) end
            as on_credit_list_count
    from cities
    left join last_year
        on cities.city_code = last_year.city_code
    left join credit
        on cities.city_code = credit.city_code
)

select * from final
