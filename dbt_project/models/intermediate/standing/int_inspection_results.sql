-- One conclusion per organization and inspection year, from the lists held on the night: as listed, or
-- `not_inspected` for a due organization absent from a list its authority declares complete.
with

conclusions as (
    select * from {{ ref('int_inspections_matched') }}
),

organizations as (
    select * from {{ ref('int_organizations_located') }}
    where credit_code is not null
),

authorities as (
    select
        authority_code,
        coalesce(nullif(trim(inspection_cutoff), ''), '12-31') as inspection_cutoff,
        coalesce(complete_lists, false) as complete_lists
    from {{ ref('standing_authorities') }}
),

-- Two lists naming an organization for one year (a re-delivery is already one list): the later
-- delivery, and of two delivered together the worse conclusion.
listed as (
    select
        matched_credit_code as credit_code,
        inspection_year,
        result,
        'listed' as basis,
        match_method
    from conclusions
    where is_registered
    qualify row_number() over (
        partition by matched_credit_code, inspection_year
        order by export_date desc, {{ inspection_severity('result') }} desc, source_file, source_row asc
    ) = 1
),

-- The lists declared complete (standing_authorities.complete_lists), with the day by which an
-- organization had to be registered to be due (inspection_cutoff; 31 December of the year by default).
-- A list none of whose rows names a registered organization (another authority's file misnamed, a
-- registry not delivered) says nothing about who is absent.
complete_lists as (
    select distinct
        conclusions.authority_code,
        conclusions.inspection_year,
        cast(conclusions.inspection_year || '-' || authorities.inspection_cutoff as date)
            as due_if_registered_by
    from conclusions
    inner join authorities
        on conclusions.authority_code = authorities.authority_code
    where authorities.complete_lists and conclusions.is_registered
),

-- Absent from its authority's complete list while due: it took no part (未参检). An organization's
-- authority is the registering department its credit code names (characters 3–8, GB 32100); one
-- registered after the cut-off (this year's) is not yet due, one without a registration date unknown.
absent as (
    select
        organizations.credit_code,
        complete_lists.inspection_year,
        'not_inspected' as result,
        'absent_from_complete_list' as basis,
        null as match_method
    from complete_lists
    inner join organizations
        on substr(organizations.credit_code, 3, 6) = complete_lists.authority_code
    where
        organizations.is_active
        and organizations.registered_on <= complete_lists.due_if_registered_by
        and not exists (
            select 1 from listed
            where
                listed.credit_code = organizations.credit_code
                and listed.inspection_year = complete_lists.inspection_year
        )
),

results as (
    select * from listed
    union all
    select * from absent
)

select * from results
