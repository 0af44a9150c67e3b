with

clusters as (
    select * from {{ ref('cluster_taxonomy') }} as taxonomy
    where {{ held_on('taxonomy', snapshot_date()) }}
),

cluster_associations as (
    select * from {{ ref('int_cluster_associations') }}
),

pairs as (
    select
        pairs.cluster_code,
        points.credit_code as paired_exhibition_point_code,
        points.org_name as paired_exhibition_point_name
    from {{ ref('exhibition_point_pairs') }} as pairs
    inner join {{ ref('exhibition_points') }} as points
        on pairs.city_code = points.city_code and pairs.point_no = points.point_no
    where {{ held_on('pairs', snapshot_date()) }} and {{ held_on('points', snapshot_date()) }}
),

cluster_members as (
    select * from {{ ref('int_cluster_members_flagged') }}
),

member_history as (
    select counts.*
    from {{ ref('int_cluster_member_counts_by_night') }} as counts
    inner join {{ ref('stg_audit__nights') }} as nights
        on counts.snapshot_date = nights.snapshot_date
    where nights.snapshot_date <= {{ snapshot_date() }} and counts.cluster_code is not null
),

reference_nights as (
    select
        max(snapshot_date) filter (
            where snapshot_date < {{ snapshot_date() }}
        ) as previous_night,
        max(snapshot_date) filter (
            where snapshot_date <= {{ snapshot_date() }} - interval 30 day
        ) as month_ago_night
    from member_history
),

growth as (
    select
        member_history.cluster_code,
        max(member_history.listed_member_count) filter (
            where member_history.snapshot_date = {{ snapshot_date() }}
        ) as listed_tonight,
        max(member_history.listed_member_count) filter (
            where member_history.snapshot_date = reference_nights.previous_night
        ) as listed_previous_night,
        max(member_history.listed_member_count) filter (
            where member_history.snapshot_date = reference_nights.month_ago_night
        ) as listed_30_days_before
    from member_history
    cross join reference_nights
    group by member_history.cluster_code
),

cities as (
    select distinct city_code from {{ ref('int_organizations_located') }}
),

association_counts as (
    select
        cluster_code,
        count(distinct association_credit_code) as association_count,
        max(association_grade) as association_grade,
        bool_or(association_is_high_grade) as association_is_high_grade,
        bool_or(association_funded) as association_funded,
        -- every designated association in good standing (null when one is not found in the registry)
        case
            when bool_and(association_in_good_standing is not null)
                then bool_and(association_in_good_standing)
        end as association_in_good_standing,
        string_agg(
            association_name || ' (' || association_credit_code || '): ' || association_standing_reason, ' | '
            order by association_credit_code
        ) filter (where not association_in_good_standing) as association_standing_reason,
        bool_or(delivered_members) as delivered_members
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

-- Members are known for a cluster without associations (none), or whose associations sent a list.
known as (
    select
        clusters.cluster_code,
        coalesce(association_counts.delivered_members, true) as members_known,
        coalesce(association_counts.delivered_members, true) and {{ qualifications_delivered() }}
            as qualifications_known
    from clusters
    left join association_counts
        on clusters.cluster_code = association_counts.cluster_code
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
        association_counts.association_grade,
        association_counts.association_is_high_grade,
        association_counts.association_funded,
        association_counts.association_in_good_standing,
        association_counts.association_standing_reason,
        pairs.paired_exhibition_point_code,
        pairs.paired_exhibition_point_name,
        case when known.members_known then coalesce(member_counts.member_enterprise_count, 0) end
            as member_enterprise_count,
        case when known.members_known then coalesce(member_counts.membership_count, 0) end
            as membership_count,
        {{ coalesced_flag_counts('member_counts', 'known.qualifications_known') }},
        growth.listed_tonight - growth.listed_previous_night as member_growth_night,
        growth.listed_tonight - growth.listed_30_days_before as member_growth_30_days,
        {{ snapshot_date() }} as snapshot_date
    from clusters
    inner join cities
        on clusters.city_code = cities.city_code
    left join association_counts
        on clusters.cluster_code = association_counts.cluster_code
    left join member_counts
        on clusters.cluster_code = member_counts.cluster_code
    left join growth
        on clusters.cluster_code = growth.cluster_code
    left join pairs
        on clusters.cluster_code = pairs.cluster_code
    inner join known
        on clusters.cluster_code = known.cluster_code
)

select * from final
