-- Per city and year, the figures of its last snapshot: tonight's for tonight's year, the last release
-- of each earlier year for the years before (year_end_releases). A figure its year's snapshot did not
-- have (its source not delivered, or a column an older release lacks) is null.
with

tonight as (
    select * from {{ ref('city_summary') }}
),

earlier_years as (
    select * from {{ year_end_releases('city_summary') }}
),

years as (
    select * from tonight
    union all by name
    select * from earlier_years
),

final as (
    select
        city_code,
        cast(year(snapshot_date) as integer) as year,  -- noqa: RF04
        snapshot_date,
        {%- for column in columns_of('city_summary', except=['city_code', 'snapshot_date']) %}
        {{ column }},
        {%- endfor %}
        {{ snapshot_date() }} as release_date
    from years
)

select * from final
