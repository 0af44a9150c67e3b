-- Every audited registry snapshot up to the night being built: the attributes history tracks.
with

source as (
    select * from {{ source('raw', 'registry') }}
),

audited as (
    select distinct export_date from {{ source('raw', 'audited') }}
),

snapshots as (
    select source.*
    from source
    inner join audited
        on source.export_date = audited.export_date
    where source.export_date <= {{ snapshot_date() }}
),

renamed as (
    select
        credit_code,
        org_name,
        org_type,
        status,
        supervising_unit,
        address,
        city_code,
        rating_valid_until,
        export_date as snapshot_date,
        coalesce(division_code, substr(credit_code, 3, 6)) as division_code,
        cast(rating as tinyint) as rating,
        case
            when rating_valid_until is null or rating_valid_until >= export_date
                then cast(rating as tinyint)
        end as grade
    from snapshots
)

select * from renamed
