with

outcomes as (
    select * from {{ ref('stg_quality__expectations') }}
),

final as (
    select
        export_source as source,  -- noqa: RF04
        expectation,
        coalesce(column_name, '') as column_name,
        severity,
        success,
        unexpected_count,
        element_count,
        unexpected_share,
        export_date as snapshot_date
    from outcomes
)

select * from final
