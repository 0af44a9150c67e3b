with

changes as (
    select * from {{ ref('int_membership_changes') }}
),

final as (
    select
        association_credit_code,
        member_key,
        member_credit_code,
        member_name,
        change_type,
        role_before,
        role_after,
        previous_night,
        snapshot_date
    from changes
    where snapshot_date = {{ snapshot_date() }}
)

select * from final
