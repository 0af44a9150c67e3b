-- The reference list's designated association of each cluster must be in that city's registry tonight;
-- a cluster whose association has vanished would otherwise still count as "having an association".
with

designated as (
    select * from {{ ref('cluster_associations') }} as associations
    where {{ held_on('associations', snapshot_date()) }}
),

organizations as (
    select * from {{ ref('int_organizations_located') }}
),

cities_tonight as (
    select distinct city_code from organizations
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
    on designated.association_credit_code = organizations.credit_code
where organizations.credit_code is null
