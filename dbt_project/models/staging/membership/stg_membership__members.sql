with

source as (
    select * from {{ raw_nights('membership', [night_string()]) }}
    where export_date = {{ snapshot_date() }}
),

renamed as (
    select
        association_credit_code,
        member_name,
        member_name_normalized,
        member_credit_code,
        coalesce(member_kind, 'organization') as member_kind,
        coalesce(role, 'member') as role,  -- noqa: RF04
        joined_on,
        coalesce(member_status, 'active') as member_status,
        coalesce(member_status, 'active') = 'active' as is_active_member,
        export_date as snapshot_date,
        source_file,
        source_row
    from source
)

select * from renamed
