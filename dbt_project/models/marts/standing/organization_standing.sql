select * from {{ ref('int_organization_standing') }}
