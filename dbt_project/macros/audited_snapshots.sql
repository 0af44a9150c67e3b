{# The rows of a raw source from every night that passed the quality gate (readers pick their nights). #}
{% macro audited_snapshots(source_name) -%}
    select source_rows.*
    from {{ source('raw', source_name) }} as source_rows
    inner join {{ ref('stg_audit__nights') }} as audited
        on source_rows.export_date = audited.snapshot_date
{%- endmacro %}
