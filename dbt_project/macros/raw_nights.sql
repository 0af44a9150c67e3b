{# A raw source read for the given nights only: read_parquet over those nights' partitions
   (raw/<source>/export_date=<night>/*.parquet), so that a night binds and reads its own files, not the
   files of every night kept. `nights` is a list of 'YYYY-MM-DD' strings. A night without files is left
   out; with none at all, the source's empty result (read over every night, as the source is declared).
   While dbt parses, or when executing nothing, it is the source itself (which also records lineage). #}
{% macro raw_nights(source_name, nights) -%}
    {%- set relation = source('raw', source_name) -%}
    {%- if execute -%}
        {%- set folder = env_var('SOCORG_DATA') ~ '/raw/' ~ source_name -%}
        {%- set globs = [] -%}
        {%- for night in nights | unique | sort -%}
            {%- set pattern = (folder ~ '/export_date=' ~ night ~ '/*.parquet') | replace("'", "''") -%}
            {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] -%}
            {%- if found > 0 -%}{%- do globs.append(pattern) -%}{%- endif -%}
        {%- endfor -%}
        {%- if globs -%}
            read_parquet([{%- for pattern in globs -%}'{{ pattern }}'{{ ', ' if not loop.last }}{%- endfor -%}], union_by_name = true)
        {%- else -%}
            (select * from {{ relation }} where false)
        {%- endif -%}
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{# The night being built, as 'YYYY-MM-DD' (see snapshot_date()); empty while parsing. #}
{% macro night_string() -%}
    {{ return(env_var('SOCORG_SNAPSHOT_DATE', '') if execute else '') }}
{%- endmacro %}

{# The audited nights as (snapshot_date, previous_night) strings, oldest first: read from raw's audit
   marks when dbt executes (the same nights stg_audit__nights holds); empty while parsing, or when no
   night was audited yet. #}
{% macro audited_nights() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set marks = (env_var('SOCORG_DATA') ~ '/raw/audited/export_date=*/*.parquet') | replace("'", "''") -%}
    {%- if run_query("select count(*) from glob('" ~ marks ~ "')").columns[0].values()[0] == 0 -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set rows = run_query(
        "select strftime(snapshot_date, '%Y-%m-%d'), strftime(previous_night, '%Y-%m-%d') from ("
        ~ "select snapshot_date, lag(snapshot_date) over (order by snapshot_date) as previous_night from ("
        ~ "select distinct cast(export_date as date) as snapshot_date from " ~ source('raw', 'audited')
        ~ ")) order by 1") -%}
    {{ return(rows.rows | map('list') | list) }}
{%- endmacro %}

{# A history state table (an incremental model in the intermediate schema), when it is there and this is
   not a --full-refresh: else its next build is its first, over every audited night. #}
{% macro history_state(identifier) -%}
    {%- if flags.FULL_REFRESH -%}{{ return(none) }}{%- endif -%}
    {{ return(adapter.get_relation(database=target.database, schema='intermediate', identifier=identifier)) }}
{%- endmacro %}

{# The audited nights int_registry_night_diffs builds tonight: the night being built, the night after
   it (it compares with it), and every night the state does not hold as compared with the audited night
   now before it (new, after a backfill, or after a night that no longer passes the gate). Every night
   on the state's first build. #}
{% macro registry_nights_to_build() -%}
    {%- set audited = audited_nights() -%}
    {%- set state = history_state('int_registry_night_diffs') -%}
    {%- if state is none -%}{{ return(audited | map('first') | list) }}{%- endif -%}
    {%- set built = {} -%}
    {%- for night, previous in run_query(
        "select strftime(snapshot_date, '%Y-%m-%d'), strftime(previous_night, '%Y-%m-%d') from "
        ~ state ~ " where diff_kind = 'night'").rows -%}
        {%- do built.update({night: previous}) -%}
    {%- endfor -%}
    {%- set tonight = night_string() -%}
    {%- set nights = [] -%}
    {%- for night, previous in audited -%}
        {%- if night == tonight or previous == tonight or night not in built or built[night] != previous -%}
            {%- do nights.append(night) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(nights) }}
{%- endmacro %}

{# The nights whose snapshots compare with `to_build`: those nights and the audited night before each. #}
{% macro with_previous_nights(to_build) -%}
    {%- set nights = [] -%}
    {%- for night, previous in audited_nights() -%}
        {%- if night in to_build -%}
            {%- do nights.append(night) -%}
            {%- if previous -%}{%- do nights.append(previous) -%}{%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(nights) }}
{%- endmacro %}

{# The audited nights whose member lists history reads tonight: the night being built and the night
   before it (changes compare them; the counts by night add tonight's); every night on the first build
   of int_cluster_member_counts_by_night. #}
{% macro membership_nights_to_read() -%}
    {%- if history_state('int_cluster_member_counts_by_night') is none -%}
        {{ return(audited_nights() | map('first') | list) }}
    {%- endif -%}
    {{ return(with_previous_nights([night_string()])) }}
{%- endmacro %}

{# SQL: a list of nights as DATE literals, for `in (...)`; one that matches nothing when empty. #}
{% macro night_literals(nights) -%}
    {%- for night in nights -%}cast('{{ night }}' as date){{ ', ' if not loop.last }}{%- endfor -%}
    {%- if not nights -%}cast(null as date){%- endif -%}
{%- endmacro %}
