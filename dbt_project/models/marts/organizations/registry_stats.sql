with

organizations as (
    select * from {{ ref('int_organizations_located') }}
),

counted as (
    select
        city_code,
        division_code,
        district_name,
        org_type,
        count(*) filter (where is_active) as active_count,
        count(*) filter (where is_active and is_high_grade) as high_grade_count
    from organizations
    group by city_code, division_code, district_name, org_type
),

final as (
    select
        *,
        cast(high_grade_count as double) / nullif(active_count, 0) as high_grade_share,
        {{ snapshot_date() }} as snapshot_date
    from counted
)

select * from final
