with

files as (
    select * from {{ ref('stg_load_log__files') }}
),

final as (
    select
        export_source as source,  -- noqa: RF04
        * exclude (export_source, duration_seconds),
        export_date as snapshot_date
    from files
)

select * from final
