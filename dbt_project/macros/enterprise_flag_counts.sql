{# The distinct-enterprise counts per qualification that clusters and city_summary both report. #}
{% macro enterprise_flag_counts(key) -%}
    count(distinct {{ key }}) filter (where is_listed) as listed_count,
    count(distinct {{ key }}) filter (where is_unicorn or is_little_giant) as leading_count,
    count(distinct {{ key }}) filter (where is_srdi) as srdi_count,
    count(distinct {{ key }}) filter (where is_high_tech) as high_tech_count,
    count(distinct {{ key }}) filter (where is_top100_private) as top100_private_count
{%- endmacro %}
