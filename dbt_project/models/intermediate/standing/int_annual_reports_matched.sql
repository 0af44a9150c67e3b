with

delivered as (
    select * from {{ ref('stg_annual_reports__reports') }}
),

-- A list holds until it is replaced: per authority and report year, its latest delivery up to the night.
reports as (
    {{ latest_delivery('delivered', ['authority_code', 'report_year']) }}
)

{{ matched_to_registry('reports', 'credit_code', 'org_name_normalized') }}
