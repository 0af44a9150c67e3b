-- Every audited registry snapshot: the attributes history tracks. A view: its readers take the nights
-- they compare (int_registry_night_diffs), never every night.
with

snapshots as (
    {{ audited_snapshots('registry', with_previous_nights(registry_nights_to_build())) }}
),

renamed as (
    select
        credit_code,
        {{ organization_identity('city_code') }},
        registration_number,
        org_name,
        org_type,
        status,
        supervising_unit,
        address,
        city_code,
        rating_valid_until,
        export_date as snapshot_date,
        coalesce(division_code, substr(credit_code, 3, 6)) as division_code,
        cast(rating as tinyint) as rating,
        case
            when rating_valid_until is null or rating_valid_until >= export_date
                then cast(rating as tinyint)
        end as grade
    from snapshots
)

select * from renamed
