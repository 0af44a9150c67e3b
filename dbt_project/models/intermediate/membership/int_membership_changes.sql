-- Joined, left and role changes of the night being built against the audited night before, for
-- associations whose member list came on both nights (a missing file is not everyone leaving). Two
-- nights read, whatever the number of nights kept; none on the first audited night (nothing before it
-- to compare with: at national size that skips reading 20,000,000 members for an empty result).
{%- set compared = with_previous_nights([night_string()]) %}  {#- tonight and the night before, if audited #}
with

nights as (
    select * from {{ ref('stg_audit__nights') }}
    where snapshot_date = {{ snapshot_date() }}
),

members as (
    select * from {{ ref('stg_membership__snapshots') }}
    where
        -- false on the first audited night (nothing before it): DuckDB then reads no file
        {{ 'false' if compared == [night_string()] else 'true' }}
        and (
            snapshot_date in (select nights.snapshot_date from nights)
            or snapshot_date in (select nights.previous_night from nights)
        )
),

listed as (
    select distinct
        association_credit_code,
        snapshot_date
    from members
),

listed_both_nights as (
    select
        listed.association_credit_code,
        nights.snapshot_date,
        nights.previous_night
    from listed
    inner join nights
        on listed.snapshot_date = nights.snapshot_date
    inner join listed as listed_before
        on
            listed.association_credit_code = listed_before.association_credit_code
            and nights.previous_night = listed_before.snapshot_date
),

active_on_both_nights as (
    select
        pairs.snapshot_date,
        pairs.previous_night,
        members.association_credit_code,
        members.member_key,
        members.member_credit_code,
        members.member_name,
        members.member_role,
        members.snapshot_date = pairs.snapshot_date as is_tonight
    from listed_both_nights as pairs
    inner join members
        on
            pairs.association_credit_code = members.association_credit_code
            and members.snapshot_date in (pairs.snapshot_date, pairs.previous_night)
    where members.is_active_member
),

compared as (
    select
        snapshot_date,
        previous_night,
        association_credit_code,
        member_key,
        max(member_credit_code) as member_credit_code,
        max(member_name) filter (where is_tonight) as name_tonight,
        max(member_name) filter (where not is_tonight) as name_before,
        max(member_role) filter (where not is_tonight) as role_before,
        max(member_role) filter (where is_tonight) as role_after
    from active_on_both_nights
    group by snapshot_date, previous_night, association_credit_code, member_key
),

final as (
    select
        association_credit_code,
        member_key,
        member_credit_code,
        coalesce(name_tonight, name_before) as member_name,
        role_before,
        role_after,
        previous_night,
        snapshot_date,
        case
            when role_before is null then 'joined'
            when role_after is null then 'left'
            else 'role_changed'
        end as change_type
    from compared
    where role_before is null or role_after is null or role_before <> role_after
)

select * from final
