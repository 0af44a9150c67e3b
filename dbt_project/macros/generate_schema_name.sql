{# Schemas are named by layer (staging, intermediate, marts, reference), not prefixed by target. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}
