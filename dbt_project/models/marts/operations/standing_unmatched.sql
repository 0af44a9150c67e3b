-- Rows of the night's standing lists that name an organization tonight's registry does not know (by
-- credit code, or by a name exactly one registered organization has): not in the standing marts, and
-- named here (organization names are public; the lists carry no personal column past the parse).
with

unmatched as (
    select
        'inspections' as source,  -- noqa: RF04
        source_file,
        source_row,
        org_name,
        credit_code,
        match_method,
        export_date
    from {{ ref('int_inspections_matched') }}
    where not is_registered
    union all
    select
        'annual_reports' as source,  -- noqa: RF04
        source_file,
        source_row,
        org_name,
        credit_code,
        match_method,
        export_date
    from {{ ref('int_annual_reports_matched') }}
    where not is_registered
    union all
    select
        'credit_lists' as source,  -- noqa: RF04
        source_file,
        source_row,
        org_name,
        credit_code,
        match_method,
        export_date
    from {{ ref('int_credit_lists_matched') }}
    where not is_registered
),

final as (
    select
        source,  -- noqa: RF04
        source_file as file_name,
        source_row,
        org_name,
        credit_code,
        case when credit_code is null then 'name_not_in_registry' else 'credit_code_not_in_registry' end
            as reason,
        export_date as delivered_on,
        {{ snapshot_date() }} as snapshot_date
    from unmatched
)

select * from final
