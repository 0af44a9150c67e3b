with

projects as (
    select * from {{ ref('stg_funding__projects') }}
),

organizations as (
    select * from {{ ref('int_organizations_located') }}
),

-- A provider written without its code is matched by its normalized name (traditional characters,
-- full-width brackets and spaces folded) when exactly one organization of tonight's registry has it.
names as (
    select
        org_name_normalized as name_key,
        min(credit_code) as credit_code
    from organizations
    group by org_name_normalized
    having count(*) = 1
),

matched as (
    select
        projects.*,
        coalesce(projects.provider_credit_code, names.credit_code) as matched_credit_code,
        case
            when projects.provider_credit_code is not null then 'credit_code'
            when names.credit_code is not null then 'normalized_name'
            else 'unmatched'
        end as match_method
    from projects
    left join names
        on projects.provider_credit_code is null and projects.provider_name_normalized = names.name_key
),

final as (
    select
        matched.*,
        organizations.credit_code is not null as is_registered,
        organizations.city_code
    from matched
    left join organizations
        on matched.matched_credit_code = organizations.credit_code
)

select * from final
