with

projects as (
    select * from {{ ref('stg_funding__projects') }}
)

-- A provider written without its code is matched by its normalized name when exactly one
-- organization of tonight's registry has it (matched_to_registry).
{{ matched_to_registry('projects', 'provider_credit_code', 'provider_name_normalized') }}
