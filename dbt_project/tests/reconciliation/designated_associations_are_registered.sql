-- The reference list's designated association of each cluster must be in that city's registry tonight
-- (int_cluster_associations finds it by credit code; in a snapshot from before credit codes, by the
-- organization code it carries or its name); a cluster whose association has vanished would otherwise
-- still count as "having an association". Where the export may name it by a key it cannot be found by
-- (not every organization with a credit code), its absence proves nothing: not checked.
select
    city_code,
    cluster_code,
    association_credit_code,
    association_name
from {{ ref('int_cluster_associations') }}
where not association_registered
