with

delivered as (
    select * from {{ raw_nights('annual_reports', standing_nights()) }}
),

renamed as (
    select
        authority as authority_code,
        report_year,
        credit_code,
        org_name,
        org_name_normalized,
        {{ annual_report_figures() | join(',\n        ') }},
        export_date,
        source_file,
        source_row
    from delivered
)

select * from renamed
