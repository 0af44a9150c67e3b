-- Versions folded from the history state's differences up to the night: a version starts when an
-- organization appears or changes a tracked attribute or its key, and ends the night it changes again
-- or vanishes; its city is the one of its last night. An organization that changed key (a snapshot
-- from before credit codes, then one with its credit code) is one organization, under its latest
-- org_id. Differences are few after the first night, so the fold costs about the size of the history,
-- not the number of nights kept.
with

diffs as (
    select * from {{ ref('int_registry_diffs_up_to_night') }}
),

-- Each change of key, from the key the night before to tonight's (the latest, when a key changed
-- twice between the same keys).
key_changes as (
    select
        previous_org_id as from_id,
        arg_max(org_id, snapshot_date) as to_id
    from diffs
    where diff_kind = 'changed' and previous_org_id <> org_id
    group by previous_org_id
),

-- A key followed through its changes (three at most: registration number, organization code, credit
-- code) to the organization's latest.
keyed as (
    select
        diffs.*,
        coalesce(change_3.to_id, change_2.to_id, change_1.to_id, diffs.org_id) as history_id
    from diffs
    left join key_changes as change_1
        on diffs.org_id = change_1.from_id
    left join key_changes as change_2
        on change_1.to_id = change_2.from_id
    left join key_changes as change_3
        on change_2.to_id = change_3.from_id
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
