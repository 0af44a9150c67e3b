-- Every night that passed the quality gate, with the audited night before it: the one place history
-- reads which nights count and which night each is compared with. Not cut at the night being built:
-- the history state (int_registry_night_diffs) needs to know the nights after a backfilled one.
with

audited as (
    select distinct export_date as snapshot_date
    from {{ source('raw', 'audited') }}
),

ordered as (
    select
        snapshot_date,
        lag(snapshot_date) over (order by snapshot_date) as previous_night
    from audited
)

select * from ordered
