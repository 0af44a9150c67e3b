with

members as (
    select * from {{ ref('int_members_matched') }}
),

organizations as (
    select * from {{ ref('int_organizations_located') }}
),

final as (
    select
        members.association_credit_code,
        organizations.org_name as association_name,
        members.member_key,
        members.member_name,
        members.resolved_credit_code as member_credit_code,
        members.role,
        members.joined_on,
        members.member_status,
        members.is_active_member,
        members.match_method,
        members.snapshot_date
    from members
    left join organizations
        on members.association_credit_code = organizations.credit_code
)

select * from final
