{# The figures by year as the release before the night's published them: its `by_year` dataset
   (publish/<by_year>/release_date=<night>/, datasets.dataset_path), which holds every city's years as
   of that night. A release written before there were datasets by year has none: then `source`'s last
   release of each earlier year (publish/<source>/snapshot_date=<night>/), a year number added. Read by
   name: a column an older release lacks is null. With no release before the night, `source`'s empty
   result. A release is whole once its index.json is there (publish moves it in last). #}
{% macro earlier_years(by_year, source) -%}
    {%- set before = [] -%}
    {%- set year_ends = [] -%}
    {%- if execute -%}
        {%- set publish = (env_var('SOCORG_DATA') ~ '/publish') | replace("'", "''") -%}
        {%- set nights = "(select try_cast(regexp_extract(file, 'releases/([0-9-]+)/index[.]json$', 1) as date) "
            ~ "as night from glob('" ~ publish ~ "/releases/*/index.json'))" -%}
        {%- set last = run_query("select strftime(max(night), '%Y-%m-%d') from " ~ nights
            ~ " where night < " ~ snapshot_date()).columns[0].values()[0] -%}
        {%- set file = publish ~ '/' ~ by_year ~ '/release_date=' ~ last ~ '/' ~ by_year ~ '.parquet' -%}
        {%- if last and run_query("select count(*) from glob('" ~ file ~ "')").columns[0].values()[0] -%}
            {%- do before.append(file) -%}
        {%- elif last -%}
            {%- for (night,) in run_query("select strftime(max(night), '%Y-%m-%d') from " ~ nights
                ~ " where year(night) < year(" ~ snapshot_date() ~ ") group by year(night) order by 1").rows -%}
                {%- do year_ends.append(publish ~ '/' ~ source ~ '/snapshot_date=' ~ night ~ '/' ~ source ~ '.parquet') -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {%- if before -%}
        read_parquet('{{ before[0] }}', hive_partitioning = false)
    {%- elif year_ends -%}
        (select *, cast(year(snapshot_date) as integer) as year
        from read_parquet([{%- for file in year_ends -%}'{{ file }}'{{ ', ' if not loop.last }}{%- endfor -%}], union_by_name = true, hive_partitioning = false))
    {%- else -%}
        (select *, cast(year(snapshot_date) as integer) as year from {{ ref(source) }} where false)
    {%- endif -%}
{%- endmacro %}

{# The columns of a model as built (when dbt executes; none while it parses), but `except`. #}
{% macro columns_of(model, except=[]) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(ref(model)) | map(attribute='name') | list -%}
    {{ return(columns | reject('in', except) | list) }}
{%- endmacro %}
