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

provinces as (
    select * from {{ ref('province_summary') }}
),

divisions as (
    select * from {{ ref('divisions') }}
),

standing as (
    select * from {{ ref('int_city_standing') }}
),

organization_counts as (
    select
        city_code,
        {{ active_org_counts() }},
        -- registered in the snapshot's year, whether still active or not (a full export keeps them);
        -- unknown for an export without registration dates
        case
            when count(registered_on) > 0
                then count(*) filter (where year(registered_on) = year({{ snapshot_date() }}))
        end as registered_in_year
    from organizations
    group by city_code
),

-- Deregistered or revoked between the audited snapshots of the year (a change is counted on the night
-- that first shows it): known once an audited snapshot of an earlier year is there to compare with.
deregistrations as (
    select
        organizations.city_code,
        count(*) as deregistered_in_year
    from {{ ref('int_registry_changes') }} as changes
    -- in the city the organization is placed in tonight (a full export keeps the deregistered)
    inner join organizations
        on changes.org_id = organizations.org_id
    where
        changes.change_type in ('deregistered', 'revoked')
        and year(changes.snapshot_date) = year({{ snapshot_date() }})
        and changes.snapshot_date <= {{ snapshot_date() }}
    group by organizations.city_code
),

year_compared as (
    select count(*) > 0 as known
    from {{ ref('stg_audit__nights') }}
    where snapshot_date < date_trunc('year', {{ snapshot_date() }})
),

exhibition_points as (
    select
        points.city_code,
        count(distinct points.credit_code) as exhibition_point_count
    from {{ ref('exhibition_points') }} as points
    where {{ held_on('points', snapshot_date()) }}
    group by points.city_code
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
        count(distinct association_credit_code) as cluster_association_count,
        case
            when bool_and(association_is_high_grade is not null)
                then count(distinct association_credit_code) filter (where association_is_high_grade)
        end as high_grade_cluster_association_count,
        count(distinct association_credit_code) filter (
            where association_funded
        ) as funded_cluster_association_count,
        bool_or(association_funded is not null) as funding_known,
        bool_or(delivered_members) as members_delivered
    from {{ ref('int_cluster_associations') }}
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
        -- a municipality's districts are listed as 市辖区 (110100): the city is named after its province
        case
            when divisions.division_name = '市辖区' then provinces.province_name
            else coalesce(divisions.division_name, '未知城市 ' || organization_counts.city_code)
        end as city_name,
        organization_counts.active_org_count,
        organization_counts.social_group_count,
        organization_counts.social_service_org_count,
        organization_counts.foundation_count,
        organization_counts.registered_in_year,
        case
            when (select year_compared.known from year_compared)
                then coalesce(deregistrations.deregistered_in_year, 0)
        end as deregistered_in_year,
        case
            when provinces.is_complete
                then
                    cast(organization_counts.active_org_count as double)
                    / nullif(provinces.active_org_count, 0)
        end as province_share,
        coalesce(cluster_counts.cluster_count, 0) as cluster_count,
        coalesce(cluster_counts.clusters_with_association, 0) as clusters_with_association,
        coalesce(association_counts.cluster_association_count, 0) as cluster_association_count,
        case
            when association_counts.city_code is null then 0
            else association_counts.high_grade_cluster_association_count
        end as high_grade_cluster_association_count,
        cast(association_counts.high_grade_cluster_association_count as double)
        / nullif(association_counts.cluster_association_count, 0) as high_grade_cluster_association_share,
        case
            when association_counts.funding_known then association_counts.funded_cluster_association_count
        end as funded_cluster_association_count,
        case
            when association_counts.funding_known
                then
                    cast(association_counts.funded_cluster_association_count as double)
                    / nullif(association_counts.cluster_association_count, 0)
        end as funded_cluster_association_share,
        case
            when coalesce(association_counts.members_delivered, true)
                then coalesce(member_counts.cluster_member_enterprise_count, 0)
        end as cluster_member_enterprise_count,
        {{ coalesced_flag_counts(
            'member_counts',
            'coalesce(association_counts.members_delivered, true) and ' ~ qualifications_delivered()
        ) }},
        coalesce(exhibition_points.exhibition_point_count, 0) as exhibition_point_count,
        standing.inspection_year,
        standing.inspected_count,
        standing.inspection_passed_share,
        standing.on_credit_list_count,
        {{ snapshot_date() }} as snapshot_date
    from organization_counts
    left join cluster_counts
        on organization_counts.city_code = cluster_counts.city_code
    left join association_counts
        on organization_counts.city_code = association_counts.city_code
    left join member_counts
        on organization_counts.city_code = member_counts.city_code
    left join deregistrations
        on organization_counts.city_code = deregistrations.city_code
    left join exhibition_points
        on organization_counts.city_code = exhibition_points.city_code
    left join standing
        on organization_counts.city_code = standing.city_code
    left join divisions
        on organization_counts.city_code = divisions.division_code
    left join provinces
        on divisions.province_code = provinces.province_code
    -- organizations registered by a province itself (320000) count in province_summary, and those the
    -- ministry registered (100000) in no province: neither is a city
    where organization_counts.city_code not like '__0000'
)

select * from final
