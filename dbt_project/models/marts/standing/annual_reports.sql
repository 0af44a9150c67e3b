with

reports as (
    select * from {{ ref('int_annual_reports_matched') }}
    where is_registered
),

-- One report per organization and year: the latest delivery (two authorities listing one organization:
-- the first file by name).
final as (
    select
        matched_credit_code as credit_code,
        city_code,
        cast(report_year as integer) as report_year,
        {{ annual_report_figures() | join(',\n        ') }},
        match_method,
        authority_code,
        {{ snapshot_date() }} as snapshot_date
    from reports
    qualify row_number() over (
        partition by matched_credit_code, report_year
        order by export_date desc, source_file asc, source_row asc
    ) = 1
)

select * from final
