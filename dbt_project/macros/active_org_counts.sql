{# Active organizations in total and by type, as aggregate columns (city_summary, province_summary). #}
{% macro active_org_counts() -%}
    count(*) filter (where is_active) as active_org_count,
    count(*) filter (where is_active and org_type = 'social_group') as social_group_count,
    count(*) filter (where is_active and org_type = 'social_service_org') as social_service_org_count,
    count(*) filter (where is_active and org_type = 'foundation') as foundation_count
{%- endmacro %}
