-- The registry's history state: per audited night, every organization that differs from the audited
-- night before (appeared, changed a tracked attribute or its key, moved city only, vanished), plus one
-- 'night' row naming the night it was compared with (and the state's version). An organization is
-- the same on both nights when its org_id is; failing that, when one night has no credit code for it
-- (a snapshot from before credit codes) and both show the same organization code or registration
-- number. Incremental: a night builds its
-- own differences and those of the night after it (which compare with it): two or three snapshots
-- read, never every night. A night is built again when it is re-delivered, new to the state, or its
-- previous night changed (a backfill, or a night that no longer passes the gate); the first build, or
-- --full-refresh, builds every night.
{{ config(
    materialized='incremental',
    unique_key='snapshot_date',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
) }}

with

nights as (
    select * from {{ ref('stg_audit__nights') }}
),

{% if is_incremental() %}

    -- The nights registry_nights_to_build() names (the same nights stg_registry__snapshots reads).
    to_build as (
        select
            snapshot_date,
            previous_night
        from nights
        where snapshot_date in ({{ night_literals(registry_nights_to_build()) }})
    ),

{% else %}

    to_build as (
        select
            snapshot_date,
            previous_night
        from nights
    ),

{% endif %}

snapshots as (
    select * from {{ ref('stg_registry__snapshots') }}
    where
        snapshot_date in (select to_build.snapshot_date from to_build)
        or snapshot_date in (select to_build.previous_night from to_build)
),

tonight as (
    select
        snapshots.*,
        to_build.previous_night
    from snapshots
    inner join to_build
        on snapshots.snapshot_date = to_build.snapshot_date
),

night_before_by_id as (
    select
        snapshots.*,
        to_build.snapshot_date as compared_on
    from snapshots
    inner join to_build
        on snapshots.snapshot_date = to_build.previous_night
),

-- Organizations whose org_id is not on the other night: candidates for a change of key.
unpaired_tonight as (
    select tonight.*
    from tonight
    anti join night_before_by_id
        on
            tonight.snapshot_date = night_before_by_id.compared_on
            and tonight.org_id = night_before_by_id.org_id
),

unpaired_before as (
    select night_before_by_id.*
    from night_before_by_id
    anti join tonight
        on
            night_before_by_id.compared_on = tonight.snapshot_date
            and night_before_by_id.org_id = tonight.org_id
),

rekeyed_candidates as (
    select
        unpaired_before.compared_on as snapshot_date,
        unpaired_before.org_id as previous_org_id,
        unpaired_tonight.org_id
    from unpaired_before
    inner join unpaired_tonight
        on
            unpaired_before.compared_on = unpaired_tonight.snapshot_date
            and unpaired_before.organization_code = unpaired_tonight.organization_code
    where unpaired_before.credit_code is null or unpaired_tonight.credit_code is null
    union
    select
        unpaired_before.compared_on as snapshot_date,
        unpaired_before.org_id as previous_org_id,
        unpaired_tonight.org_id
    from unpaired_before
    inner join unpaired_tonight
        on
            unpaired_before.compared_on = unpaired_tonight.snapshot_date
            and unpaired_before.registration_key = unpaired_tonight.registration_key
    where unpaired_before.credit_code is null or unpaired_tonight.credit_code is null
),

-- Only a pairing that is one to one: an identifier shared by two organizations pairs neither.
rekeyed as (
    select * from rekeyed_candidates
    qualify
        count(*) over (partition by snapshot_date, previous_org_id) = 1
        and count(*) over (partition by snapshot_date, org_id) = 1
),

night_before as (
    select
        night_before_by_id.*,
        coalesce(rekeyed.org_id, night_before_by_id.org_id) as paired_id
    from night_before_by_id
    left join rekeyed
        on
            night_before_by_id.compared_on = rekeyed.snapshot_date
            and night_before_by_id.org_id = rekeyed.previous_org_id
),

paired as (
    select
        coalesce(tonight.snapshot_date, night_before.compared_on) as snapshot_date,
        coalesce(tonight.org_id, night_before.org_id) as org_id,
        night_before.org_id as previous_org_id,
        coalesce(tonight.credit_code, night_before.credit_code) as credit_code,
        night_before.credit_code as previous_credit_code,
        coalesce(tonight.organization_code, night_before.organization_code) as organization_code,
        coalesce(tonight.registration_number, night_before.registration_number) as registration_number,
        night_before.org_id is not null as was_in_previous_night,
        tonight.org_id is not null as is_in_snapshot,
        tonight.org_name,
        tonight.org_type,
        tonight.status,
        tonight.grade,
        tonight.rating,
        tonight.rating_valid_until,
        tonight.supervising_unit,
        tonight.address,
        tonight.division_code,
        tonight.city_code,
        night_before.org_name as previous_org_name,
        night_before.org_type as previous_org_type,
        night_before.status as previous_status,
        night_before.grade as previous_grade,
        night_before.supervising_unit as previous_supervising_unit,
        night_before.address as previous_address,
        night_before.division_code as previous_division_code,
        night_before.city_code as previous_city_code
    from tonight
    full outer join night_before
        on
            tonight.snapshot_date = night_before.compared_on
            and tonight.org_id = night_before.paired_id
),

classified as (
    select
        paired.*,
        to_build.previous_night,
        case
            when not paired.is_in_snapshot then 'vanished'
            when not paired.was_in_previous_night then 'appeared'
            when
                {{ differs('org_id', 'previous_org_id') }}
                or {{ differs('org_name', 'previous_org_name') }}
                or {{ differs('org_type', 'previous_org_type') }}
                or {{ differs('status', 'previous_status') }}
                or {{ differs('grade', 'previous_grade') }}
                or {{ differs('supervising_unit', 'previous_supervising_unit') }}
                or {{ differs('address', 'previous_address') }}
                or {{ differs('division_code', 'previous_division_code') }}
                then 'changed'
            when {{ differs('city_code', 'previous_city_code') }} then 'moved'
        end as diff_kind
    from paired
    inner join to_build
        on paired.snapshot_date = to_build.snapshot_date
),

differences as (
    select
        snapshot_date,
        previous_night,
        diff_kind,
        org_id,
        previous_org_id,
        credit_code,
        previous_credit_code,
        organization_code,
        registration_number,
        was_in_previous_night,
        org_name,
        org_type,
        status,
        grade,
        rating,
        rating_valid_until,
        supervising_unit,
        address,
        division_code,
        city_code,
        previous_org_name,
        previous_org_type,
        previous_status,
        previous_grade,
        previous_supervising_unit,
        previous_address,
        previous_division_code,
        {{ history_state_version() }} as state_version
    from classified
    where diff_kind is not null
),

night_rows as (
    select
        snapshot_date,
        previous_night,
        'night' as diff_kind,
        cast(null as varchar) as org_id,
        cast(null as varchar) as previous_org_id,
        cast(null as varchar) as credit_code,
        cast(null as varchar) as previous_credit_code,
        cast(null as varchar) as organization_code,
        cast(null as varchar) as registration_number,
        cast(null as boolean) as was_in_previous_night,
        cast(null as varchar) as org_name,
        cast(null as varchar) as org_type,
        cast(null as varchar) as status,
        cast(null as tinyint) as grade,
        cast(null as tinyint) as rating,
        cast(null as date) as rating_valid_until,
        cast(null as varchar) as supervising_unit,
        cast(null as varchar) as address,
        cast(null as varchar) as division_code,
        cast(null as varchar) as city_code,
        cast(null as varchar) as previous_org_name,
        cast(null as varchar) as previous_org_type,
        cast(null as varchar) as previous_status,
        cast(null as tinyint) as previous_grade,
        cast(null as varchar) as previous_supervising_unit,
        cast(null as varchar) as previous_address,
        cast(null as varchar) as previous_division_code,
        {{ history_state_version() }} as state_version
    from to_build
),

final as (
    select * from differences
    union all
    select * from night_rows
)

select * from final
