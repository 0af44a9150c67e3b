with

delivered as (
    select * from {{ raw_nights('credit_lists', standing_nights()) }}
),

renamed as (
    select
        authority as authority_code,
        credit_code,
        org_name,
        org_name_normalized,
        list_kind,
        list_kind_label,
        included_on,
        reason,
        decided_by,
        removed_on,
        export_date,
        source_file,
        source_row
    from delivered
)

select * from renamed
