{# Reference data as it held on a date: a row of a seed with valid_from (empty: from the beginning) and
   valid_until (the last day it holds; empty: it still holds). A night uses what held on its date: a
   cluster association designated in February 2023 does not count on 2022-12-31. #}
{% macro held_on(relation, on) -%}
    ({{ relation }}.valid_from is null or {{ relation }}.valid_from <= {{ on }})
    and ({{ relation }}.valid_until is null or {{ relation }}.valid_until >= {{ on }})
{%- endmacro %}
