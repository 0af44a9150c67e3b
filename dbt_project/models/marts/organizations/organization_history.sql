-- Versions folded from the history state's differences up to the night: a version starts when an
-- organization appears or changes a tracked attribute, and ends the night it changes again or
-- vanishes; its city is the one of its last night. Differences are few after the first night, so the
-- fold costs about the size of the history, not the number of nights kept.
with

diffs as (
    select * from {{ ref('int_registry_diffs_up_to_night') }}
),

numbered as (
    select
        *,
        diff_kind in ('appeared', 'changed') as starts_version,
        sum(case when diff_kind in ('appeared', 'changed') then 1 else 0 end) over (
            partition by credit_code order by snapshot_date rows unbounded preceding
        ) as version_no
    from diffs
),

versions as (
    select
        credit_code,
        version_no,
        min(snapshot_date) filter (where starts_version) as valid_from,
        min(snapshot_date) filter (where diff_kind = 'vanished') as vanished_on,
        any_value(org_name) filter (where starts_version) as org_name,
        any_value(org_type) filter (where starts_version) as org_type,
        any_value(status) filter (where starts_version) as status,
        any_value(grade) filter (where starts_version) as grade,
        any_value(supervising_unit) filter (where starts_version) as supervising_unit,
        any_value(address) filter (where starts_version) as address,
        any_value(division_code) filter (where starts_version) as division_code,
        arg_max(city_code, snapshot_date) filter (where diff_kind <> 'vanished') as city_code
    from numbered
    group by credit_code, version_no
),

ended as (
    select
        *,
        coalesce(
            vanished_on,
            lead(valid_from) over (partition by credit_code order by version_no)
        ) as valid_to
    from versions
),

final as (
    select
        credit_code,
        cast(version_no as integer) as version_no,
        valid_from,
        valid_to,
        valid_to is null as is_current,
        org_name,
        org_type,
        status,
        grade,
        supervising_unit,
        address,
        division_code,
        city_code,
        {{ snapshot_date() }} as snapshot_date
    from ended
)

select * from final
