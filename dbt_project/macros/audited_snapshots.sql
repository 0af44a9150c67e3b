{# The rows of a raw source from every night that passed the quality gate, up to the night being built. #}
{% macro audited_snapshots(source_name) -%}
    select source_rows.*
    from {{ source('raw', source_name) }} as source_rows
    inner join (select distinct export_date from {{ source('raw', 'audited') }}) as audited
        on source_rows.export_date = audited.export_date
    where source_rows.export_date <= {{ snapshot_date() }}
{%- endmacro %}
