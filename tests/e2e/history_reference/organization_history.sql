with

compared as (
    select * from {{ ref('int_registry_snapshots_compared') }}
),

nights as (
    select distinct snapshot_date from compared
),

flagged as (
    select
        *,
        case
            when not was_in_previous_night then 1
            when {{ differs('org_name', 'previous_org_name') }} then 1
            when {{ differs('org_type', 'previous_org_type') }} then 1
            when {{ differs('status', 'previous_status') }} then 1
            when {{ differs('grade', 'previous_grade') }} then 1
            when {{ differs('supervising_unit', 'previous_supervising_unit') }} then 1
            when {{ differs('address', 'previous_address') }} then 1
            when {{ differs('division_code', 'previous_division_code') }} then 1
            else 0
        end as starts_version
    from compared
),

numbered as (
    select
        *,
        sum(starts_version) over (
            partition by credit_code order by snapshot_date rows unbounded preceding
        ) as version_no
    from flagged
),

versions as (
    select
        credit_code,
        version_no,
        min(snapshot_date) as valid_from,
        max(snapshot_date) as last_seen_on,
        any_value(org_name) as org_name,
        any_value(org_type) as org_type,
        any_value(status) as status,
        any_value(grade) as grade,
        any_value(supervising_unit) as supervising_unit,
        any_value(address) as address,
        any_value(division_code) as division_code,
        arg_max(city_code, snapshot_date) as city_code
    from numbered
    group by credit_code, version_no
),

final as (
    select
        versions.credit_code,
        cast(versions.version_no as integer) as version_no,
        versions.valid_from,
        ended.valid_to,
        ended.valid_to is null as is_current,
        versions.org_name,
        versions.org_type,
        versions.status,
        versions.grade,
        versions.supervising_unit,
        versions.address,
        versions.division_code,
        versions.city_code,
        {{ snapshot_date() }} as snapshot_date
    from versions
    left join lateral (
        select min(nights.snapshot_date) as valid_to
        from nights
        where nights.snapshot_date > versions.last_seen_on
    ) as ended on true
)

select * from final
