with

files as (
    select * from {{ ref('stg_load_log__files') }}
),

final as (
    select
        export_source as source,  -- noqa: RF04
        export_date,
        file_name,
        version,
        status,
        sha256,
        bytes,
        encoding,
        header_row,
        title_rows,
        footer_rows,
        footer_total,
        unknown_headers,
        rows_read,
        rows_loaded,
        rows_quarantined,
        quarantine_reasons,
        duration_seconds,
        export_date as snapshot_date
    from files
)

select * from final
