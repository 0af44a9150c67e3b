with

cluster_associations as (
    select * from {{ ref('cluster_associations') }} as associations
    where {{ held_on('associations', snapshot_date()) }}
),

members as (
    select * from {{ ref('int_members_matched') }}
    where is_active_member
),

flags as (
    select * from {{ ref('int_enterprises_flagged') }}
),

joined as (
    select
        cluster_associations.city_code,
        cluster_associations.cluster_code,
        members.association_credit_code,
        members.member_key,
        {{ coalesced_flags('flags') }}
    from cluster_associations
    inner join members
        on cluster_associations.association_credit_code = members.association_credit_code
    left join flags
        on members.member_key = flags.enterprise_key
)

select * from joined
