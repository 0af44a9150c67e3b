{# True when two values differ, a null counting as a value (IS DISTINCT FROM, spelled portably). #}
{% macro differs(a, b) -%}
    coalesce({{ a }} <> {{ b }}, ({{ a }} is null) <> ({{ b }} is null))
{%- endmacro %}
