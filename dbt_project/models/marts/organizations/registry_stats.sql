with

organizations as (
    select * from {{ ref('int_organizations_located') }}
),

changes as (
    select * from {{ ref('int_registry_changes') }}
    where
        change_type in ('registered', 'deregistered')
        and date_trunc('month', snapshot_date) = date_trunc('month', {{ snapshot_date() }})
),

changes_per_organization as (
    select
        org_id,
        count(*) filter (
            where change_type = 'registered' and snapshot_date = {{ snapshot_date() }}
        ) as registered_tonight,
        count(*) filter (
            where change_type = 'deregistered' and snapshot_date = {{ snapshot_date() }}
        ) as deregistered_tonight,
        count(*) filter (where change_type = 'registered') as registered_this_month,
        count(*) filter (where change_type = 'deregistered') as deregistered_this_month
    from changes
    group by org_id
),

organizations_changed as (
    select
        organizations.*,
        coalesce(changes_per_organization.registered_tonight, 0) as registered_tonight,
        coalesce(changes_per_organization.deregistered_tonight, 0) as deregistered_tonight,
        coalesce(changes_per_organization.registered_this_month, 0) as registered_this_month,
        coalesce(changes_per_organization.deregistered_this_month, 0) as deregistered_this_month
    from organizations
    left join changes_per_organization
        on organizations.org_id = changes_per_organization.org_id
),

counted as (
    select
        city_code,
        division_code,
        district_name,
        org_type,
        count(*) filter (where is_active) as active_count,
        count(*) filter (where is_active and is_high_grade) as high_grade_count,
        cast(sum(registered_tonight) as bigint) as new_night_count,
        cast(sum(deregistered_tonight) as bigint) as deregistered_night_count,
        cast(sum(registered_this_month) as bigint) as new_month_count,
        cast(sum(deregistered_this_month) as bigint) as deregistered_month_count
    from organizations_changed
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
