with

source as (
    select * from {{ raw_nights('load_log', [night_string()]) }}
    where cast(export_date as date) = {{ snapshot_date() }}
),

renamed as (
    select
        source as export_source,
        cast(export_date as date) as export_date,
        file_name,
        version,
        status,
        sha256,
        bytes,
        encoding,
        delimiter,
        header_row,
        title_rows,
        footer_rows,
        footer_total,
        unknown_headers,
        rows_read,
        rows_loaded,
        rows_quarantined,
        quarantine_reasons,
        cell_notes,
        seconds as duration_seconds
    from source
)

select * from renamed
