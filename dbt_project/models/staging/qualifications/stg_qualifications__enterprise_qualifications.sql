with

source as (
    select * from {{ raw_nights('qualifications', [night_string()]) }}
    where export_date = {{ snapshot_date() }}
),

renamed as (
    select
        enterprise_name,
        enterprise_name_normalized,
        credit_code,
        qualification,
        recognized_year,
        valid_until,
        list_name,
        export_date as snapshot_date,
        source_file,
        source_row
    from source
)

select * from renamed
