with

organizations as (
    select * from {{ ref('int_organizations_located') }}
),

final as (
    select
        org_id,
        credit_code,
        organization_code,
        registration_number,
        org_name,
        org_type,
        status,
        is_active,
        rating,
        is_high_grade,
        rating_valid_until,
        registered_on,
        registered_capital,
        registration_authority,
        supervising_unit,
        address,
        division_code,
        district_name,
        city_code,
        is_exhibition_point,
        exhibition_point_year,
        exhibition_point_type,
        has_mediation_room,
        snapshot_date
    from organizations
)

select * from final
