with

organizations as (
    select * from {{ ref('int_organizations_located') }}
),

clusters as (
    select * from {{ ref('clusters') }}
),

cluster_members as (
    select * from {{ ref('int_cluster_members_flagged') }}
),

organization_counts as (
    select
        city_code,
        count(*) filter (where is_active) as active_org_count,
        count(*) filter (where is_active and org_type = 'social_group') as social_group_count,
        count(*) filter (where is_active and org_type = 'social_service_org') as social_service_org_count,
        count(*) filter (where is_active and org_type = 'foundation') as foundation_count
    from organizations
    group by city_code
),

cluster_counts as (
    select
        city_code,
        count(*) as cluster_count,
        count(*) filter (where has_association) as clusters_with_association
    from clusters
    group by city_code
),

association_counts as (
    select
        city_code,
        count(distinct association_credit_code) as cluster_association_count
    from {{ ref('cluster_associations') }}
    group by city_code
),

member_counts as (
    select
        city_code,
        count(distinct member_key) as cluster_member_enterprise_count,
        {{ enterprise_flag_counts('member_key') }}
    from cluster_members
    group by city_code
),

final as (
    select
        organization_counts.city_code,
        organization_counts.active_org_count,
        organization_counts.social_group_count,
        organization_counts.social_service_org_count,
        organization_counts.foundation_count,
        coalesce(cluster_counts.cluster_count, 0) as cluster_count,
        coalesce(cluster_counts.clusters_with_association, 0) as clusters_with_association,
        coalesce(association_counts.cluster_association_count, 0) as cluster_association_count,
        coalesce(member_counts.cluster_member_enterprise_count, 0) as cluster_member_enterprise_count,
        {{ coalesced_flag_counts('member_counts') }},
        {{ snapshot_date() }} as snapshot_date
    from organization_counts
    left join cluster_counts
        on organization_counts.city_code = cluster_counts.city_code
    left join association_counts
        on organization_counts.city_code = association_counts.city_code
    left join member_counts
        on organization_counts.city_code = member_counts.city_code
)

select * from final
