{# The published `dataset` of the last release of each year before the night's (publish/<dataset>/
   snapshot_date=<date>/), for the figures by year: a year's figures are those its last snapshot published.
   Read by name: a column an older release lacks is null. With no earlier year, the dataset's empty
   result. A release is whole once its index.json is there (publish moves it in last). #}
{% macro year_end_releases(dataset) -%}
    {%- set files = [] -%}
    {%- if execute -%}
        {%- set publish = (env_var('SOCORG_DATA') ~ '/publish') | replace("'", "''") -%}
        {%- set found = run_query(
            "select strftime(max(night), '%Y-%m-%d') from ("
            ~ "select try_cast(regexp_extract(file, 'releases/([0-9-]+)/index[.]json$', 1) as date) as night "
            ~ "from glob('" ~ publish ~ "/releases/*/index.json')) "
            ~ "where year(night) < year(" ~ snapshot_date() ~ ") group by year(night) order by 1") -%}
        {%- for (night,) in found.rows -%}
            {%- do files.append(publish ~ '/' ~ dataset ~ '/snapshot_date=' ~ night ~ '/' ~ dataset ~ '.parquet') -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if files -%}
        read_parquet([{%- for file in files -%}'{{ file }}'{{ ', ' if not loop.last }}{%- endfor -%}], union_by_name = true, hive_partitioning = false)
    {%- else -%}
        (select * from {{ ref(dataset) }} where false)
    {%- endif -%}
{%- endmacro %}

{# The columns of a model as built (when dbt executes; none while it parses), but `except`. #}
{% macro columns_of(model, except=[]) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(ref(model)) | map(attribute='name') | list -%}
    {{ return(columns | reject('in', except) | list) }}
{%- endmacro %}
