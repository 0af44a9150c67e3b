with

organizations as (
    select * from {{ ref('stg_registry__organizations') }}
),

divisions as (
    select * from {{ ref('divisions') }}
),

exhibition_points as (
    select * from {{ ref('exhibition_points') }}
),

located as (
    select
        organizations.*,
        coalesce(organizations.reported_division_code, organizations.registrar_code) as division_code,
        divisions.division_name,
        coalesce(divisions.city_code, organizations.export_city_code) as city_code,
        exhibition_points.credit_code is not null as is_exhibition_point,
        exhibition_points.designated_year as exhibition_point_year,
        exhibition_points.point_type as exhibition_point_type,
        coalesce(exhibition_points.has_mediation_room, false) as has_mediation_room
    from organizations
    left join divisions
        on
            coalesce(organizations.reported_division_code, organizations.registrar_code)
            = divisions.division_code
    left join exhibition_points
        on organizations.credit_code = exhibition_points.credit_code
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
