-- Every change of every audited night up to the night being built against the audited night before
-- (the first night has none), read from the history state's differences.
with

compared as (
    select * from {{ ref('int_registry_diffs_up_to_night') }}
    where previous_night is not null and diff_kind in ('appeared', 'changed')
),

registered as (
    select
        *,
        'registered' as change_type,
        null as value_before,
        org_name as value_after
    from compared
    where not was_in_previous_night
),

known as (
    select * from compared
    where was_in_previous_night
),

status_changed as (
    select
        *,
        case when status = 'active' then 'reinstated' else status end as change_type,
        previous_status as value_before,
        status as value_after
    from known
    where status <> previous_status
),

renamed as (
    select
        *,
        'renamed' as change_type,
        previous_org_name as value_before,
        org_name as value_after
    from known
    where org_name <> previous_org_name
),

type_changed as (
    select
        *,
        'type_changed' as change_type,
        previous_org_type as value_before,
        org_type as value_after
    from known
    where org_type <> previous_org_type
),

-- The organization's identifier changed: it got its credit code (a snapshot from before credit codes
-- compared with one after), or another key.
key_changed as (
    select
        *,
        case
            when previous_credit_code is null and credit_code is not null then 'credit_code_assigned'
            else 'identifier_changed'
        end as change_type,
        previous_org_id as value_before,
        org_id as value_after
    from known
    where org_id <> previous_org_id
),

grade_changed as (
    select
        *,
        case
            when previous_grade is null then 'grade_gained'
            when grade > previous_grade then 'grade_raised'
            when grade < previous_grade then 'grade_lowered'
            when rating is not null and rating_valid_until < snapshot_date then 'grade_expired'
            else 'grade_removed'
        end as change_type,
        cast(previous_grade as varchar) as value_before,
        cast(grade as varchar) as value_after
    from known
    where {{ differs('grade', 'previous_grade') }}
),

changes as (
    select * from registered
    union all
    select * from status_changed
    union all
    select * from renamed
    union all
    select * from type_changed
    union all
    select * from key_changed
    union all
    select * from grade_changed
),

final as (
    select
        org_id,
        credit_code,
        change_type,
        cast(value_before as varchar) as value_before,
        cast(value_after as varchar) as value_after,
        org_name,
        org_type,
        city_code,
        previous_night,
        snapshot_date
    from changes
)

select * from final
