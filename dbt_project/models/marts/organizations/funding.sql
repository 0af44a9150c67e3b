with

projects as (
    select * from {{ ref('int_funding_matched') }}
),

final as (
    select
        project_name,
        purchaser,
        matched_credit_code as provider_credit_code,
        provider_name,
        amount,
        funded_year,
        match_method,
        is_registered,
        city_code,
        publisher,
        list_year,
        snapshot_date
    from projects
)

select * from final
