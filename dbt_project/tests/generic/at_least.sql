{# Fails for rows where the column is below a minimum (counts, shares). #}
{% test at_least(model, column_name, minimum) %}
select *
from {{ model }}
where {{ column_name }} < {{ minimum }}
{% endtest %}
