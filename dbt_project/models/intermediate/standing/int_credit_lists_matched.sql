with

delivered as (
    select * from {{ ref('stg_credit_lists__entries') }}
),

-- Credit lists are published entry by entry (批次): an entry holds from the night it is delivered; a
-- later delivery of the same entry (organization, list, inclusion date) replaces it, with its removal.
entries as (
    {{ latest_delivery(
        'delivered', ['coalesce(credit_code, org_name_normalized)', 'list_kind', 'included_on']
    ) }}
)

{{ matched_to_registry('entries', 'credit_code', 'org_name_normalized') }}
