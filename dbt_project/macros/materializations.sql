{#- Tables and views replaced in one transaction.

    dbt's own materializations build a model under an intermediate name, then rename the old relation
    away, rename the new one in and drop the old: written for warehouses whose DDL is not transactional.
    DuckDB's is, so here the old relation is dropped and the new one created inside the transaction dbt
    opens for the model, and committed together: a failing model leaves the last night's relation as it
    was, as before. Each rename was an adapter call that builds dbt's whole macro context again: about
    a second of a city night's ~50 models. Contracts (create_table_as), hooks and persisted docs are
    kept; grants and foreign keys are not used by socorg (DuckDB has no grants). -#}

{% materialization table, adapter="duckdb" %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {{ return(socorg_replace(target_relation, create_table_as(False, target_relation, compiled_code))) }}
{% endmaterialization %}


{% materialization view, adapter="duckdb" %}
  {%- set target_relation = this.incorporate(type='view') -%}
  {{ return(socorg_replace(target_relation, get_create_view_as_sql(target_relation, sql))) }}
{% endmaterialization %}


{#- Both materializations: the model's hooks around one statement that drops the last relation and
    runs `create_sql`, its docs persisted, committed together. -#}
{% macro socorg_replace(target_relation, create_sql) -%}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% call statement('main') -%}
    {{ socorg_drop_existing(load_cached_relation(this)) }}
    {{ create_sql }}
  {%- endcall %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do persist_docs(target_relation, model) %}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{%- endmacro %}


{#- The model's relation as the last build left it (a table or a view), dropped: a statement to run in
    the model's transaction, before its new relation is created under the same name. -#}
{% macro socorg_drop_existing(relation) -%}
  {%- if relation is not none -%}
    drop {{ 'view' if relation.is_view else 'table' }} if exists {{ relation }};
  {%- endif -%}
{%- endmacro %}
