-- The history state's differences that count for the night being built: audited nights up to it,
-- each compared with the audited night that is now before it (a night no longer audited, or a night
-- after a backfilled one not yet built again, is left out).
with

diffs as (
    select * from {{ ref('int_registry_night_diffs') }}
),

nights as (
    select * from {{ ref('stg_audit__nights') }}
    where snapshot_date <= {{ snapshot_date() }}
),

current_diffs as (
    select diffs.*
    from diffs
    inner join nights
        on
            diffs.snapshot_date = nights.snapshot_date
            and not {{ differs('diffs.previous_night', 'nights.previous_night') }}
    where diffs.diff_kind <> 'night'
)

select * from current_diffs
