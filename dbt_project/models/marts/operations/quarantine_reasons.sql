with

files as (
    select * from {{ ref('stg_load_log__files') }}
),

reasons as (
    select
        files.export_source as source,  -- noqa: RF04
        files.file_name,
        files.version,
        reason.key as reason,
        cast(reason.value as bigint) as quarantined_rows,
        files.export_date as snapshot_date
    from files, json_each(files.quarantine_reasons) as reason
)

select * from reasons
