{#- A model's docs persisted as comments in one statement: the relation's, and its documented columns'.

    dbt's own persist_docs (with dbt-duckdb's column comments) looks the relation's columns up twice
    and runs two statements, each an adapter call that builds dbt's macro context again: four round
    trips for each of a night's ~50 models. Here a contracted table's or view's columns are its
    contract's, which the build has just checked, so they are not looked up; another model's are
    looked up once, and a documented column the relation lacks is left out (and named), as dbt does.
    Comments are written as dbt-duckdb writes them. -#}
{% macro duckdb__persist_docs(relation, model, for_relation, for_columns) -%}
  {%- set statements = [] -%}
  {%- if for_relation and config.persist_relation_docs() and model.description -%}
    {%- do statements.append(duckdb__alter_relation_comment(relation, model.description)) -%}
  {%- endif -%}
  {%- if for_columns and config.persist_column_docs() and model.columns -%}
    {%- if model.config.contract.enforced and model.config.materialized in ("table", "view") -%}
      {%- set columns = model.columns -%}
    {%- else -%}
      {%- set existing = adapter.get_columns_in_relation(relation) | map(attribute="name") | list -%}
      {%- set columns = validate_doc_columns(relation, model.columns, existing) -%}
    {%- endif -%}
    {%- for name, column in columns.items() -%}
      {%- set quoted = adapter.quote(name) if column['quote'] else name -%}
      {%- do statements.append(
          "comment on column " ~ relation ~ "." ~ quoted ~ " is " ~ duckdb_escape_comment(column['description']) ~ ";") -%}
    {%- endfor -%}
  {%- endif -%}
  {%- if statements -%}
    {%- do run_query(statements | join("\n")) -%}
  {%- endif -%}
{%- endmacro %}
