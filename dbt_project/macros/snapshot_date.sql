{# The export date this run processes, as a DATE literal. #}
{% macro snapshot_date() -%}
    cast('{{ var("snapshot_date") }}' as date)
{%- endmacro %}
