-- Each organization in each audited snapshot beside its row in the audited snapshot before.
with

snapshots as (
    select * from {{ ref('stg_registry__snapshots') }}
),

distinct_nights as (
    select distinct snapshot_date from snapshots
),

nights as (
    select
        snapshot_date,
        lag(snapshot_date) over (order by snapshot_date) as previous_night
    from distinct_nights
),

compared as (
    select
        snapshots.*,
        nights.previous_night,
        lag(snapshots.snapshot_date) over by_org as previously_seen_on,
        lag(snapshots.org_name) over by_org as previous_org_name,
        lag(snapshots.org_type) over by_org as previous_org_type,
        lag(snapshots.status) over by_org as previous_status,
        lag(snapshots.grade) over by_org as previous_grade,
        lag(snapshots.supervising_unit) over by_org as previous_supervising_unit,
        lag(snapshots.address) over by_org as previous_address,
        lag(snapshots.division_code) over by_org as previous_division_code
    from snapshots
    inner join nights
        on snapshots.snapshot_date = nights.snapshot_date
    window by_org as (partition by snapshots.credit_code order by snapshots.snapshot_date)
),

final as (
    select
        *,
        coalesce(previously_seen_on = previous_night, false) as was_in_previous_night
    from compared
)

select * from final
