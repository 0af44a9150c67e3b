-- Per city, cluster and year, the figures of its last snapshot: tonight's for tonight's year, the last
-- release of each earlier year for the years before (year_end_releases). A cluster is in a year when
-- the reference data held it then; a figure its year's snapshot did not have is null.
with

tonight as (
    select * from {{ ref('clusters') }}
),

earlier_years as (
    select * from {{ year_end_releases('clusters') }}
),

years as (
    select * from tonight
    union all by name
    select * from earlier_years
),

final as (
    select
        city_code,
        cluster_code,
        cast(year(snapshot_date) as integer) as year,  -- noqa: RF04
        snapshot_date,
        {%- for column in columns_of('clusters', except=['city_code', 'cluster_code', 'snapshot_date']) %}
        {{ column }},
        {%- endfor %}
        {{ snapshot_date() }} as release_date
    from years
)

select * from final
