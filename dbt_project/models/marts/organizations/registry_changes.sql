with

changes as (
    select * from {{ ref('int_registry_changes') }}
),

final as (
    select * from changes
    where snapshot_date = {{ snapshot_date() }}
)

select * from final
