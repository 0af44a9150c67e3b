with

source as (
    select * from {{ raw_nights('funding', [night_string()]) }}
    where export_date = {{ snapshot_date() }}
),

renamed as (
    select
        project_name,
        purchaser,
        provider_name,
        provider_name_normalized,
        provider_credit_code,
        amount,
        funded_year,
        publisher,
        list_year,
        export_date as snapshot_date,
        source_file,
        source_row
    from source
)

select * from renamed
