with

delivered as (
    select * from {{ raw_nights('inspections', standing_nights()) }}
),

renamed as (
    select
        authority as authority_code,
        inspection_year,
        credit_code,
        org_name,
        org_name_normalized,
        result,
        result_label,
        inspected_on,
        export_date,
        source_file,
        source_row
    from delivered
)

select * from renamed
