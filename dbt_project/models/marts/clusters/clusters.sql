with

clusters as (
    select * from {{ ref('cluster_taxonomy') }}
),

cluster_associations as (
    select * from {{ ref('cluster_associations') }}
),

cluster_members as (
    select * from {{ ref('int_cluster_members_flagged') }}
),

cities as (
    select distinct city_code from {{ ref('int_organizations_located') }}
),

association_counts as (
    select
        cluster_code,
        count(distinct association_credit_code) as association_count
    from cluster_associations
    group by cluster_code
),

member_counts as (
    select
        cluster_code,
        count(distinct member_key) as member_enterprise_count,
        count(*) as membership_count,
        {{ enterprise_flag_counts('member_key') }}
    from cluster_members
    group by cluster_code
),

final as (
    select
        clusters.city_code,
        clusters.cluster_code,
        clusters.cluster_name,
        clusters.category,
        clusters.sector,
        clusters.is_illustrative,
        coalesce(association_counts.association_count, 0) as association_count,
        coalesce(association_counts.association_count, 0) > 0 as has_association,
        coalesce(member_counts.member_enterprise_count, 0) as member_enterprise_count,
        coalesce(member_counts.membership_count, 0) as membership_count,
        {{ coalesced_flag_counts('member_counts') }},
        {{ snapshot_date() }} as snapshot_date
    from clusters
    inner join cities
        on clusters.city_code = cities.city_code
    left join association_counts
        on clusters.cluster_code = association_counts.cluster_code
    left join member_counts
        on clusters.cluster_code = member_counts.cluster_code
)

select * from final
