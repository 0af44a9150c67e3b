-- Per cluster and audited night: distinct active organization members of its designated
-- associations, keyed as listed (the basis of the clusters' growth figures). Incremental: a night
-- appends (or, re-delivered, replaces) its own counts; the first build counts every audited night.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where snapshot_date = {{ snapshot_date() }}{% endif %}",
) }}

with

{% if is_incremental() %}

    -- Tonight's: earlier nights' counts are in the table already.
    members as (
        select * from {{ ref('stg_membership__snapshots') }}
        where is_active_member and snapshot_date = {{ snapshot_date() }}
    ),

{% else %}

    members as (
        select * from {{ ref('stg_membership__snapshots') }}
        where is_active_member
    ),

{% endif %}

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
