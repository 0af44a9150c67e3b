-- Versions folded from the history state's differences up to the night: a version starts when an
-- organization appears or changes a tracked attribute or its key, and ends the night it changes again
-- or vanishes; its city is the one of its last night. An organization that changed key (a snapshot
-- from before credit codes, then one with its credit code) is one organization, under its latest
-- org_id. Differences are few after the first night, so the fold costs about the size of the history,
-- not the number of nights kept.
with recursive

diffs as (
    select * from {{ ref('int_registry_diffs_up_to_night') }}
),

-- Each change of key joins the key of the night before with tonight's: keys joined, however often
-- (a credit code missing from one snapshot and back in the next), are one organization.
key_links as (
    select distinct
        previous_org_id as from_id,
        org_id as to_id
    from diffs
    where diff_kind = 'changed' and previous_org_id <> org_id
),

edges as (
    select
        from_id,
        to_id
    from key_links
    union
    select
        to_id as from_id,
        from_id as to_id
    from key_links
),

reached (key_id, root_id) as (
    select
        from_id as key_id,
        from_id as root_id
    from edges
    union
    select
        edges.to_id as key_id,
        reached.root_id
    from reached
    inner join edges
        on reached.key_id = edges.from_id
),

components as (
    select
        key_id,
        min(root_id) as component
    from reached
    group by key_id
),

-- An organization's org_id: the key of its latest snapshot.
latest_keys as (
    select
        components.component,
        arg_max(diffs.org_id, strftime(diffs.snapshot_date, '%Y-%m-%d') || diffs.org_id) as latest_id
    from diffs
    inner join components
        on diffs.org_id = components.key_id
    where diffs.diff_kind <> 'vanished'
    group by components.component
),

keyed as (
    select
        diffs.*,
        coalesce(latest_keys.latest_id, diffs.org_id) as history_id
    from diffs
    left join components
        on diffs.org_id = components.key_id
    left join latest_keys
        on components.component = latest_keys.component
),

numbered as (
    select
        *,
        diff_kind in ('appeared', 'changed') as starts_version,
        sum(case when diff_kind in ('appeared', 'changed') then 1 else 0 end) over (
            partition by history_id order by snapshot_date rows unbounded preceding
        ) as version_no
    from keyed
),

versions as (
    select
        history_id,
        version_no,
        min(snapshot_date) filter (where starts_version) as valid_from,
        min(snapshot_date) filter (where diff_kind = 'vanished') as vanished_on,
        any_value(credit_code) filter (where starts_version) as credit_code,
        any_value(organization_code) filter (where starts_version) as organization_code,
        any_value(registration_number) filter (where starts_version) as registration_number,
        any_value(org_name) filter (where starts_version) as org_name,
        any_value(org_type) filter (where starts_version) as org_type,
        any_value(status) filter (where starts_version) as status,
        any_value(grade) filter (where starts_version) as grade,
        any_value(supervising_unit) filter (where starts_version) as supervising_unit,
        any_value(address) filter (where starts_version) as address,
        any_value(division_code) filter (where starts_version) as division_code,
        arg_max(city_code, snapshot_date) filter (where diff_kind <> 'vanished') as city_code
    from numbered
    group by history_id, version_no
),

ended as (
    select
        *,
        coalesce(
            vanished_on,
            lead(valid_from) over (partition by history_id order by version_no)
        ) as valid_to
    from versions
),

final as (
    select
        history_id as org_id,
        cast(version_no as integer) as version_no,
        valid_from,
        valid_to,
        valid_to is null as is_current,
        credit_code,
        organization_code,
        registration_number,
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
