with

organizations as (
    select * from {{ ref('stg_registry__organizations') }}
),

divisions as (
    select * from {{ ref('divisions') }}
),

exhibition_points as (
    select * from {{ ref('exhibition_points') }} as points
    where {{ held_on('points', snapshot_date()) }}
),

coded as (
    select
        *,
        -- a snapshot from before credit codes may name no division: the export's city
        coalesce(reported_division_code, registrar_code, export_city_code) as division_code
    from organizations
),

located as (
    select
        coded.*,
        divisions.division_name,
        coalesce(
            divisions.city_code,
            coded.export_city_code,
            -- a code the list places in no city: a province's or the ministry's own (xx0000, 100000)
            -- is its own registrar; a county the list lacks (abolished, renamed) is in the city of its
            -- first four digits
            case
                when coded.division_code like '__0000' then coded.division_code
                else substr(coded.division_code, 1, 4) || '00'
            end
        ) as city_code,
        case
            when divisions.city_code is not null then 'division'
            when coded.export_city_code is not null then 'export'
            when coded.division_code like '__0000' then 'own_registrar'
            else 'unlisted_division'
        end as placed_by,
        exhibition_points.credit_code is not null as is_exhibition_point,
        cast(year(exhibition_points.valid_from) as integer) as exhibition_point_year,
        exhibition_points.point_type as exhibition_point_type,
        coalesce(exhibition_points.has_mediation_room, false) as has_mediation_room
    from coded
    left join divisions
        on coded.division_code = divisions.division_code
    left join exhibition_points
        on coded.credit_code = exhibition_points.credit_code
),

graded as (
    select
        *,
        coalesce(division_name, '未知区划 ' || division_code) as district_name,
        coalesce(
            rating >= 3 and (rating_valid_until is null or rating_valid_until >= snapshot_date),
            false
        ) as is_high_grade
    from located
)

select * from graded
