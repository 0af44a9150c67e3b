with

source as (
    select * from {{ raw_nights('quality', [night_string()]) }}
    where cast(export_date as date) = {{ snapshot_date() }}
),

renamed as (
    select
        source as export_source,
        expectation,
        column_name,
        severity,
        success,
        unexpected_count,
        element_count,
        unexpected_share,
        cast(export_date as date) as export_date
    from source
)

select * from renamed
