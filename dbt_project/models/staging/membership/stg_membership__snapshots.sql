-- depends_on: {{ ref('cluster_associations') }}
-- Every audited night's organization members, keyed as listed (readers take the nights they need):
-- the credit code, else the normalized name.
with

audited as (
    {{ audited_snapshots('membership', membership_nights_to_read()) }}
),

snapshots as (
    select * from audited
    where coalesce(member_kind, 'organization') = 'organization'
),

renamed as (
    select
        association_credit_code,
        member_credit_code,
        member_name,
        export_date as snapshot_date,
        coalesce(member_credit_code, 'name:' || member_name_normalized) as member_key,
        coalesce(role, 'member') as member_role,
        coalesce(member_status, 'active') = 'active' as is_active_member
    from snapshots
)

select * from renamed
