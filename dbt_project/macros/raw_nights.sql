{# A raw source read for the given nights only: read_parquet over those nights' partitions
   (raw/<source>/export_date=<night>/*.parquet), so that a night binds and reads its own files, not the
   files of every night kept. `nights` is a list of 'YYYY-MM-DD' strings. A night without files is left
   out — or, `required` (history's snapshots), stops the build: a pruned or deleted night would
   otherwise read as a night without organizations. With no files at all, the source's empty result.
   While dbt parses it is the source itself (which also records lineage). #}
{% macro raw_nights(source_name, nights, required=false) -%}
    {%- set relation = source('raw', source_name) -%}
    {%- if execute -%}
        {%- set globs = [] -%}
        {%- set held = raw_nights_held(source_name) -%}
        {%- for night in nights | unique | sort -%}
            {%- if night in held -%}
                {%- do globs.append(raw_pattern(source_name, night)) -%}
            {%- elif required -%}
                {{ exceptions.raise_compiler_error(
                    "history needs raw/" ~ source_name ~ "/export_date=" ~ night ~ ", which is not there "
                    ~ "(pruned by SOCORG_KEEP_RAW_NIGHTS, or deleted): restore it from a backup") }}
            {%- endif -%}
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

{# The glob of a night's raw files of a source, quoted for a SQL string literal. #}
{% macro raw_pattern(source_name, night) -%}
    {{ return((env_var('SOCORG_DATA') ~ '/raw/' ~ source_name ~ '/export_date=' ~ night ~ '/*.parquet') | replace("'", "''")) }}
{%- endmacro %}

{# The nights raw/ holds files of a source for, as 'YYYY-MM-DD' strings (when dbt executes): one glob
   over the source's partitions, not one query a night (a standing list reads every audited night:
   a query each made every night's build longer than the one before). #}
{% macro raw_nights_held(source_name) -%}
    {{ return(run_query("select distinct regexp_extract(file, 'export_date=([^/]+)/[^/]*$', 1) from glob('"
        ~ raw_pattern(source_name, '*') ~ "')").columns[0].values() | list) }}
{%- endmacro %}

{# Whether raw/ holds files of a source for a night (when dbt executes). #}
{% macro has_raw(source_name, night) -%}
    {{ return(night in raw_nights_held(source_name)) }}
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

{# A history state table (an incremental model in the intermediate schema), when it is there, holds
   `columns` and this is not a --full-refresh: else every audited night is built into it again (its
   first build; or a state an older socorg kept, whose missing columns dbt adds: sync_all_columns). #}
{% macro history_state(identifier, columns) -%}
    {%- if flags.FULL_REFRESH -%}{{ return(none) }}{%- endif -%}
    {%- set relation = adapter.get_relation(database=target.database, schema='intermediate', identifier=identifier) -%}
    {#- A view of that name (an older socorg's) is not a state: is_incremental() is false for it too. -#}
    {%- if relation is none or not relation.is_table -%}{{ return(none) }}{%- endif -%}
    {%- set present = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
    {%- for column in columns -%}
        {%- if column not in present -%}{{ return(none) }}{%- endif -%}
    {%- endfor -%}
    {{ return(relation) }}
{%- endmacro %}

{# The version of the history state's logic, kept in each night's row of the state: a night built by
   another version is built again. Raise it when a change to int_registry_night_diffs or
   int_cluster_member_counts_by_night changes what they hold for a night (2: organizations keyed by
   org_id, paired across a change of key). #}
{% macro history_state_version() -%}
    {{ return(2) }}
{%- endmacro %}

{# The audited nights int_registry_night_diffs builds tonight: the night being built, the night after
   it (it compares with it), and every night the state does not hold as compared with the audited night
   now before it (new, after a backfill, or after a night that no longer passes the gate). Every night
   on the state's first build. #}
{% macro registry_nights_to_build() -%}
    {%- set audited = audited_nights() -%}
    {%- set state = history_state('int_registry_night_diffs', ['diff_kind', 'previous_night', 'state_version']) -%}
    {%- if state is none -%}{{ return(audited | map('first') | list) }}{%- endif -%}
    {%- set built = {} -%}
    {%- for night, previous, version in run_query(
        "select strftime(snapshot_date, '%Y-%m-%d'), strftime(previous_night, '%Y-%m-%d'), state_version "
        ~ "from " ~ state ~ " where diff_kind = 'night'").rows -%}
        {%- do built.update({night: [previous, version]}) -%}
    {%- endfor -%}
    {%- set tonight = night_string() -%}
    {%- set nights = [] -%}
    {%- for night, previous in audited -%}
        {%- if night == tonight or previous == tonight or night not in built
            or built[night] != [previous, history_state_version()] -%}
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

{# The designated associations, and from when until when each holds, as one value (a hash): counts by
   night made under another designation are counted again. #}
{% macro designation_hash() -%}
    {{ return(run_query("select " ~ designation_sql()).columns[0].values()[0]) }}
{%- endmacro %}

{# SQL: that hash, from the cluster_associations seed. #}
{% macro designation_sql() -%}
    md5(coalesce(string_agg(
        cluster_code || ':' || association_credit_code || ':' || coalesce(cast(valid_from as varchar), '')
        || ':' || coalesce(cast(valid_until as varchar), ''), ','
        order by cluster_code, association_credit_code, valid_from), '')) as hash
    from {{ ref('cluster_associations') }}
{%- endmacro %}

{# The audited nights int_cluster_member_counts_by_night counts tonight: the night being built, and every
   night it does not hold as counted under tonight's designated associations and state version (a
   night whose build stopped before the counts, a warehouse restored from an older backup, a changed
   designation) whose member lists are still in raw/. Every audited night on its first build. #}
{% macro membership_nights_to_build() -%}
    {%- set audited = audited_nights() | map('first') | list -%}
    {%- set state = history_state('int_cluster_member_counts_by_night', ['cluster_code', 'designation', 'state_version']) -%}
    {%- if state is none -%}{{ return(audited) }}{%- endif -%}
    {%- set counted = {} -%}
    {%- for night, designation, version in run_query(
        "select strftime(snapshot_date, '%Y-%m-%d'), designation, state_version from " ~ state
        ~ " where cluster_code is null").rows -%}
        {%- do counted.update({night: [designation, version]}) -%}
    {%- endfor -%}
    {%- set current = [designation_hash(), history_state_version()] -%}
    {%- set tonight = night_string() -%}
    {%- set nights = [] -%}
    {%- for night in audited -%}
        {%- if night == tonight or (counted.get(night) != current and has_raw('membership', night)) -%}
            {%- do nights.append(night) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(nights) }}
{%- endmacro %}

{# The audited nights whose member lists history reads tonight: the nights counted tonight, and the
   night being built with the audited night before it (membership_changes compares them). #}
{% macro membership_nights_to_read() -%}
    {{ return(membership_nights_to_build() + with_previous_nights([night_string()])) }}
{%- endmacro %}

{# SQL: a list of nights as DATE literals, for `in (...)`; one that matches nothing when empty. #}
{% macro night_literals(nights) -%}
    {%- for night in nights -%}cast('{{ night }}' as date){{ ', ' if not loop.last }}{%- endfor -%}
    {%- if not nights -%}cast(null as date){%- endif -%}
{%- endmacro %}
