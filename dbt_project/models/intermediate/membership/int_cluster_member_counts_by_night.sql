-- Per cluster and audited night: distinct active organization members of its designated
-- associations, keyed as listed (the basis of the clusters' growth figures), and one row per night
-- (cluster_code null) recording the designation it was counted under. Incremental: a night adds (or,
-- re-delivered, replaces) its own counts, and counts again any night the table lacks or counted under
-- other designated associations (membership_nights_to_build); the first build counts every night.
{{ config(
    materialized='incremental',
    unique_key='snapshot_date',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
) }}

with

{% if is_incremental() %}

    {%- set to_count = membership_nights_to_build() %}

    members as (
        select * from {{ ref('stg_membership__snapshots') }}
        where
            is_active_member
            and snapshot_date in ({{ night_literals(to_count) }})
    ),

    nights as (
        select snapshot_date from {{ ref('stg_audit__nights') }}
        where snapshot_date in ({{ night_literals(to_count) }})
    ),

{% else %}

    members as (
        select * from {{ ref('stg_membership__snapshots') }}
        where is_active_member
    ),

    nights as (
        select snapshot_date from {{ ref('stg_audit__nights') }}
    ),

{% endif %}

designated as (
    select * from {{ ref('cluster_associations') }}
),

designation as (
    select {{ designation_sql() }}
),

counted as (
    select
        designated.cluster_code,
        members.snapshot_date,
        count(distinct members.member_key) as listed_member_count
    from members
    inner join designated
        on
            members.association_credit_code = designated.association_credit_code
            and {{ held_on('designated', 'members.snapshot_date') }}
    group by designated.cluster_code, members.snapshot_date
),

night_rows as (
    select
        cast(null as varchar) as cluster_code,
        nights.snapshot_date,
        cast(null as bigint) as listed_member_count,
        (select designation.hash from designation) as designation
    from nights
),

final as (
    select
        cluster_code,
        snapshot_date,
        listed_member_count,
        cast(null as varchar) as designation,
        {{ history_state_version() }} as state_version
    from counted
    union all
    select
        cluster_code,
        snapshot_date,
        listed_member_count,
        designation,
        {{ history_state_version() }} as state_version
    from night_rows
)

select * from final
