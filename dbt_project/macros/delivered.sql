{# Whether the night's exports can give a figure: a figure whose source was not delivered is null, not 0
   (an archive's year-end snapshot without membership exports, a night without qualification lists). #}

{# SQL true when tonight's qualification lists were delivered (a list file was loaded). #}
{% macro qualifications_delivered() -%}
    (select count(*) > 0 from {{ ref('stg_load_log__files') }}
        where export_source = 'qualifications' and status = 'loaded')
{%- endmacro %}
