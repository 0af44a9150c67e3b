with

members as (
    select * from {{ ref('int_members_matched') }}
),

flags as (
    select * from {{ ref('int_enterprises_flagged') }}
),

per_enterprise as (
    select
        member_key as enterprise_key,
        min(member_name_normalized) as enterprise_name,
        max(resolved_credit_code) as credit_code,
        -- an association lists a member once (int_members_matched keeps one row per association and
        -- member, and tests it): counting rows counts associations, without a distinct per enterprise
        count(*) filter (where is_active_member) as association_count
    from members
    group by member_key
),

final as (
    select
        per_enterprise.enterprise_key,
        per_enterprise.enterprise_name,
        per_enterprise.credit_code,
        {{ coalesced_flags('flags') }},
        coalesce(flags.is_unicorn or flags.is_little_giant, false) as is_leading,
        per_enterprise.association_count,
        {{ snapshot_date() }} as snapshot_date
    from per_enterprise
    left join flags
        on per_enterprise.enterprise_key = flags.enterprise_key
)

select * from final
