{# The qualification counts that clusters and city_summary both report, and how each is decided. #}
{% macro enterprise_flags() -%}
    {{ return({
        'listed_count': 'is_listed',
        'leading_count': 'is_unicorn or is_little_giant',
        'srdi_count': 'is_srdi',
        'high_tech_count': 'is_high_tech',
        'top100_private_count': 'is_top100_private',
    }) }}
{%- endmacro %}

{# Distinct enterprises per qualification, as aggregate columns. #}
{% macro enterprise_flag_counts(key) -%}
    {%- for name, condition in enterprise_flags().items() %}
    count(distinct {{ key }}) filter (where {{ condition }}) as {{ name }}
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{# The same columns read from an aggregate that may be missing (a left join), as zeros; null where
   `known` (SQL) is not true: a figure whose source was not delivered is unknown, not 0. #}
{% macro coalesced_flag_counts(relation, known='true') -%}
    {%- for name in enterprise_flags() %}
    case when {{ known }} then coalesce({{ relation }}.{{ name }}, 0) end as {{ name }}
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{# The qualification flags of an enterprise read through a left join: false when it is on no list. #}
{% macro coalesced_flags(relation) -%}
    {%- for flag in ['is_listed', 'is_unicorn', 'is_little_giant', 'is_srdi', 'is_high_tech', 'is_top100_private'] %}
    coalesce({{ relation }}.{{ flag }}, false) as {{ flag }}
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
