{# The export date this run processes, as a DATE literal, from the environment variable
   SOCORG_SNAPSHOT_DATE (socorg's transform step sets it to the night's export date). It is read only
   when dbt executes, never while it parses: the parsed project does not depend on the night, so dbt's
   partial parsing carries over from one night to the next. It has no default: a build without it
   fails with this message instead of building some other night. #}
{% macro snapshot_date() -%}
    {%- if execute -%}
        {%- set night = env_var("SOCORG_SNAPSHOT_DATE", "") -%}
        {%- if not night -%}
            {{ exceptions.raise_compiler_error(
                "SOCORG_SNAPSHOT_DATE is not set: run dbt with SOCORG_SNAPSHOT_DATE=YYYY-MM-DD in its "
                ~ "environment (socorg's transform step sets it to the night's export date)") }}
        {%- endif -%}
        cast('{{ night }}' as date)
    {%- else -%}
        cast(null as date)
    {%- endif -%}
{%- endmacro %}
