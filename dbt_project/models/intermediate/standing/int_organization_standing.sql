-- Each organization's standing on the night, by the rules of domain.md "Standing" (sources in the
-- comments). In good standing means eligible for grade evaluation.
with

organizations as (
    select * from {{ ref('int_organizations_located') }}
    where is_active and credit_code is not null
),

results as (
    select * from {{ ref('int_inspection_results') }}
),

entries as (
    select * from {{ ref('int_credit_lists_matched') }}
    where is_registered
),

-- Newest year first, each with how many years back from the organization's last inspection year it is.
ranked as (
    select
        *,
        max(inspection_year) over (partition by credit_code) as last_year,
        result in ('failed', 'not_inspected') as not_passed
    from results
),

-- Not passed (不合格 or no part taken; 基本合格 is passed) in consecutive years up to the last one: a
-- year without a known conclusion ends the run.
numbered as (
    select
        *,
        cast(row_number() over (partition by credit_code order by inspection_year desc) - 1 as integer)
            as years_back
    from ranked
),

-- In the run: not passed, and every year from the last one back to it known and not passed.
runs as (
    select
        credit_code,
        bool_and(not_passed and inspection_year = last_year - years_back) over (
            partition by credit_code order by inspection_year desc
            rows between unbounded preceding and current row
        ) as in_run
    from numbered
),

streaks as (
    select
        credit_code,
        count(*) filter (where in_run) as years_not_passed_in_a_row
    from runs
    group by credit_code
),

last_two as (
    select
        credit_code,
        max(inspection_year) as last_inspection_year,
        max(result) filter (where inspection_year = last_year) as last_inspection_result,
        max(result) filter (where inspection_year = last_year - 1) as year_before_result,
        max(match_method) filter (where inspection_year = last_year) as last_inspection_matched_by
    from ranked
    group by credit_code
),

-- On a list now: included on or before the night and not removed by it (a removal ends the entry).
listed_now as (
    select
        matched_credit_code as credit_code,
        bool_or(list_kind = 'serious_violation') as on_serious_violation_list,
        bool_or(list_kind = 'abnormal') as on_abnormal_list
    from entries
    where included_on <= {{ snapshot_date() }} and (removed_on is null or removed_on > {{ snapshot_date() }})
    group by matched_credit_code
),

rules as (
    select
        organizations.credit_code,
        organizations.org_name,
        organizations.city_code,
        last_two.last_inspection_year,
        last_two.last_inspection_result,
        last_two.last_inspection_matched_by,
        cast(coalesce(streaks.years_not_passed_in_a_row, 0) as integer) as years_not_passed_in_a_row,
        listed_now.credit_code is not null as on_credit_list,
        case
            when listed_now.on_serious_violation_list then 'serious_violation'
            when listed_now.on_abnormal_list then 'abnormal'
        end as credit_list_kind,
        -- The Ministry's evaluation rules (全国性社会组织评估管理规定, 2021; local notices repeat them): not
        -- evaluated after failing the last inspection, taking no part in it, 基本合格 two years running,
        -- or while on a credit list.
        coalesce(last_two.last_inspection_result = 'failed', false) as failed_last,
        coalesce(last_two.last_inspection_result = 'not_inspected', false) as missed_last,
        coalesce(
            last_two.last_inspection_result = 'passed_with_remarks'
            and last_two.year_before_result = 'passed_with_remarks',
            false
        ) as remarks_twice,
        coalesce(listed_now.on_abnormal_list, false) as on_abnormal_list,
        coalesce(listed_now.on_serious_violation_list, false) as on_serious_violation_list
    from organizations
    left join last_two
        on organizations.credit_code = last_two.credit_code
    left join streaks
        on organizations.credit_code = streaks.credit_code
    left join listed_now
        on organizations.credit_code = listed_now.credit_code
),

final as (
    select
        credit_code,
        org_name,
        city_code,
        last_inspection_year,
        last_inspection_result,
        last_inspection_matched_by,
        years_not_passed_in_a_row,
        on_credit_list,
        credit_list_kind,
        (failed_last or missed_last or remarks_twice or on_credit_list) is false as eligible_for_evaluation,
        -- 社会团体登记管理条例 and the inspection rules: no part taken or 不合格 two years running lead to
        -- revocation of the registration (撤销登记).
        years_not_passed_in_a_row >= 2 as revocation_candidate,
        coalesce(
            nullif(concat_ws(
                '; ',
                case when failed_last then 'failed_last_inspection' end,
                case when missed_last then 'no_part_in_last_inspection' end,
                case when remarks_twice then 'passed_with_remarks_two_years_running' end,
                case when on_serious_violation_list then 'on_serious_violation_list' end,
                case when on_abnormal_list then 'on_abnormal_activity_list' end,
                case when years_not_passed_in_a_row >= 2 then 'not_passed_two_years_running' end
            ), ''),
            case
                when last_inspection_year is null then 'no_inspection_on_record'
                else 'passed_last_inspection'
            end
        ) as standing_reason,
        {{ snapshot_date() }} as snapshot_date
    from rules
)

select * from final
