with

delivered as (
    select * from {{ ref('stg_inspections__conclusions') }}
),

-- A list holds until it is replaced: per authority and inspection year, the rows of its latest
-- delivery up to the night (a re-delivered list replaces the year's conclusions whole).
conclusions as (
    {{ latest_delivery('delivered', ['authority_code', 'inspection_year']) }}
)

{{ matched_to_registry('conclusions', 'credit_code', 'org_name_normalized') }}
