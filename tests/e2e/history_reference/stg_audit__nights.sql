-- The nights that passed the quality gate, up to the night being built: the one place history reads
-- which nights count.
with

audited as (
    select distinct export_date as snapshot_date
    from {{ source('raw', 'audited') }}
    where export_date <= {{ snapshot_date() }}
)

select * from audited
