-- The reference list's designated association of each cluster must be in that city's registry tonight
-- (by its credit code, or in a snapshot from before credit codes by the organization code it carries);
-- a cluster whose association has vanished would otherwise still count as "having an association". A
-- city whose export names organizations by registration number alone cannot tell: it is not checked.
with

designated as (
    select * from {{ ref('cluster_associations') }} as associations
    where {{ held_on('associations', snapshot_date()) }}
),

organizations as (
    select * from {{ ref('int_organizations_located') }}
),

cities_tonight as (
    select city_code from organizations
    group by city_code
    having count(organization_code) > 0
)

select
    designated.city_code,
    designated.cluster_code,
    designated.association_credit_code,
    designated.association_name
from designated
inner join cities_tonight
    on designated.city_code = cities_tonight.city_code
left join organizations
    on
        designated.association_credit_code = organizations.credit_code
        or substr(designated.association_credit_code, 9, 9) = organizations.organization_code
where organizations.org_id is null
