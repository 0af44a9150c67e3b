-- Per city and year, the figures of its last snapshot up to the night: tonight's for the cities
-- tonight delivered, in tonight's year; every other city and year as the release before tonight held
-- them (earlier_years). A figure its year's snapshot did not have (its source not delivered, or a
-- column an older release lacks) is null.
with

tonight as (
    select
        *,
        cast(year(snapshot_date) as integer) as year  -- noqa: RF04
    from {{ ref('city_summary') }}
),

earlier as (
    select * from {{ earlier_years('city_by_year', 'city_summary') }}
),

kept as (
    select earlier.*
    from earlier
    anti join tonight
        on earlier.city_code = tonight.city_code and earlier.year = tonight.year
),

years as (
    select * from tonight
    union all by name
    select * from kept
),

final as (
    select
        city_code,
        year,
        snapshot_date,
        {%- for column in columns_of('city_summary', except=['city_code', 'snapshot_date']) %}
        {{ column }},
        {%- endfor %}
        {{ snapshot_date() }} as release_date
    from years
)

select * from final
