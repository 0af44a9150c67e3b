{# The rows of a raw source from the given audited nights (a list of 'YYYY-MM-DD'): only those nights'
   files are read (raw_nights; a night without them stops the build), and only nights that passed the
   quality gate count. #}
{% macro audited_snapshots(source_name, nights) -%}
    select source_rows.*
    from {{ raw_nights(source_name, nights, required=true) }} as source_rows
    inner join {{ ref('stg_audit__nights') }} as audited
        on source_rows.export_date = audited.snapshot_date
{%- endmacro %}
