{# Standing (annual inspections, annual reports, credit lists: domain.md "Standing"). Their lists are
   published once a year or now and then, not nightly: a list holds until it is replaced, so a night
   reads every list delivered up to it (standing_nights), keeping each list's latest delivery
   (latest_delivery). #}

{# The nights whose standing lists a night reads: the audited nights up to it, and the night itself. #}
{% macro standing_nights() -%}
    {%- set tonight = night_string() -%}
    {%- set nights = [tonight] -%}
    {%- for night, _ in audited_nights() -%}
        {%- if night <= tonight -%}{%- do nights.append(night) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(nights) }}
{%- endmacro %}

{# SQL: the rows of `relation` from the latest delivery of each list (`list_key`, its columns): a list
   delivered again on a later night replaces the earlier delivery's rows whole. #}
{% macro latest_delivery(relation, list_key) -%}
    select * from {{ relation }}
    qualify export_date = max(export_date) over (partition by {{ list_key | join(', ') }})
{%- endmacro %}

{# SQL: the rows of `rows` (a CTE) matched to tonight's registry, as funding's providers are: by credit
   code when the row has one, else by normalized name when exactly one registered organization has it
   (traditional characters, full-width brackets and spaces folded). Adds matched_credit_code,
   match_method (credit_code, normalized_name, unmatched), is_registered (the organization is in
   tonight's registry) and its city_code. #}
{% macro matched_to_registry(rows, code_column, name_column) -%}
    select
        matched.*,
        organizations.credit_code is not null as is_registered,
        organizations.city_code
    from (
        select
            {{ rows }}.*,
            coalesce({{ rows }}.{{ code_column }}, registry_names.credit_code) as matched_credit_code,
            case
                when {{ rows }}.{{ code_column }} is not null then 'credit_code'
                when registry_names.credit_code is not null then 'normalized_name'
                else 'unmatched'
            end as match_method
        from {{ rows }}
        left join (
            select
                org_name_normalized as name_key,
                min(credit_code) as credit_code
            from {{ ref('int_organizations_located') }}
            group by org_name_normalized
            having count(*) = 1
        ) as registry_names
            on {{ rows }}.{{ code_column }} is null and {{ rows }}.{{ name_column }} = registry_names.name_key
    ) as matched
    left join {{ ref('int_organizations_located') }} as organizations
        on matched.matched_credit_code = organizations.credit_code
{%- endmacro %}

{# SQL: how bad an inspection conclusion is, for choosing between two lists that disagree (the worse
   holds: a bureau corrects a failure by publishing it, not by omitting it). #}
{% macro inspection_severity(result) -%}
    case {{ result }}
        when 'failed' then 4 when 'not_inspected' then 3 when 'passed_with_remarks' then 2 else 1
    end
{%- endmacro %}

{# The figures of an annual work report (年度工作报告), as annual_reports.yaml types them and the
   annual_reports mart publishes them: amounts in 元, then people. #}
{% macro annual_report_figures() -%}
    {{ return([
        'income_total', 'donation_income', 'membership_dues', 'service_income', 'sales_income',
        'government_income', 'investment_income', 'other_income',
        'expense_total', 'programme_expense', 'admin_expense', 'fundraising_expense', 'other_expense',
        'net_assets', 'full_time_staff', 'volunteers', 'members',
    ]) }}
{%- endmacro %}
