{# The export date this run processes, as a DATE literal: the var `snapshot_date` has no default, so
   a build without it fails with this message instead of building some other night. #}
{% macro snapshot_date() -%}
    {%- set night = var("snapshot_date", none) -%}
    {%- if night is none and execute -%}
        {{ exceptions.raise_compiler_error(
            "the var snapshot_date is not set: run dbt with --vars '{snapshot_date: YYYY-MM-DD}' "
            ~ "(socorg's transform step passes the night's export date)") }}
    {%- endif -%}
    cast('{{ night }}' as date)
{%- endmacro %}
