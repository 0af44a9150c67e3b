with

cluster_associations as (
    select * from {{ ref('cluster_associations') }}
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
        coalesce(flags.is_listed, false) as is_listed,
        coalesce(flags.is_unicorn, false) as is_unicorn,
        coalesce(flags.is_little_giant, false) as is_little_giant,
        coalesce(flags.is_srdi, false) as is_srdi,
        coalesce(flags.is_high_tech, false) as is_high_tech,
        coalesce(flags.is_top100_private, false) as is_top100_private
    from cluster_associations
    inner join members
        on cluster_associations.association_credit_code = members.association_credit_code
    left join flags
        on members.member_key = flags.enterprise_key
)

select * from joined
