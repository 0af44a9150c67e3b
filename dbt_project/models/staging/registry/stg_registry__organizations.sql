with

source as (
    select * from {{ raw_nights('registry', [night_string()]) }}
    where export_date = {{ snapshot_date() }}
),

renamed as (
    select
        credit_code,
        {{ organization_identity('city_code') }},
        registration_number,
        org_name,
        org_name_normalized,
        org_type,
        registration_authority,
        supervising_unit,
        registered_on,
        registered_capital,
        address,
        division_code as reported_division_code,
        substr(credit_code, 3, 6) as registrar_code,
        city_code as export_city_code,
        status,
        status = 'active' as is_active,
        cast(rating as tinyint) as rating,
        rating_valid_until,
        business_scope,
        export_date as snapshot_date,
        source_file,
        source_row
    from source
)

select * from renamed
