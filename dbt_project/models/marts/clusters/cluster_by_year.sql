-- Per city, cluster and year, the figures of its city's last snapshot up to the night: tonight's for
-- the cities tonight delivered, in tonight's year; every other city and year as the release before
-- tonight held them (earlier_years). A cluster is in a year when the reference data held it then; a
-- figure its source did not give that year is null.
with

tonight as (
    select
        *,
        cast(year(snapshot_date) as integer) as year  -- noqa: RF04
    from {{ ref('clusters') }}
),

delivered as (
    select distinct
        city_code,
        year
    from tonight
),

earlier as (
    select * from {{ earlier_years('cluster_by_year', 'clusters') }}
),

kept as (
    select earlier.*
    from earlier
    anti join delivered
        on earlier.city_code = delivered.city_code and earlier.year = delivered.year
),

years as (
    select * from tonight
    union all by name
    select * from kept
),

final as (
    select
        city_code,
        cluster_code,
        year,
        snapshot_date,
        {%- for column in columns_of('clusters', except=['city_code', 'cluster_code', 'snapshot_date']) %}
        {{ column }},
        {%- endfor %}
        {{ snapshot_date() }} as release_date
    from years
)

select * from final
