-- Per cluster and audited night: distinct active organization members of its designated
-- associations, keyed as listed (the basis of the clusters' growth figures).
with

members as (
    select * from {{ ref('stg_membership__snapshots') }}
    where is_active_member
),

designated as (
    select * from {{ ref('cluster_associations') }}
),

counted as (
    select
        designated.cluster_code,
        members.snapshot_date,
        count(distinct members.member_key) as listed_member_count
    from members
    inner join designated
        on members.association_credit_code = designated.association_credit_code
    group by designated.cluster_code, members.snapshot_date
)

select * from counted
