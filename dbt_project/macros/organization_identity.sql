{# An organization's identifiers in a registry row, and its identity across snapshots (org_id).
   A registry identifies an organization by its unified social credit code; snapshots from before
   credit codes (about 2016–2018) by its organization code (组织机构代码, 9 characters: characters 9–17 of
   the credit code it later carries) or its registration certificate number (登记证号, unique within the
   registering city). org_id is the first of them the row has: the credit code, the organization code,
   or the registration number prefixed with the export's city. An organization that changes key
   between two snapshots is paired by the organization code or registration number both nights show
   (int_registry_night_diffs). #}
{% macro organization_identity(city_code) -%}
    coalesce(substr(credit_code, 9, 9), organization_code) as organization_code,
    {{ registration_key('registration_number', city_code) }} as registration_key,
    coalesce(credit_code, organization_code, {{ registration_key('registration_number', city_code) }}) as org_id
{%- endmacro %}

{# A registration number as it is compared: without spaces, prefixed with its city (`440300:深社证字第00012号`). #}
{% macro registration_key(registration_number, city_code) -%}
    {{ city_code }} || ':' || regexp_replace({{ registration_number }}, '\s', '', 'g')
{%- endmacro %}
