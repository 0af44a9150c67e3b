with

delivered as (
    select * from {{ raw_nights('annual_reports', standing_nights()) }}
),

renamed as (
    select
        authority as authority_code,
        report_year,
        credit_code,
        org_name,
        org_name_normalized,
        income_total,
        donation_income,
        membership_dues,
        service_income,
        sales_income,
        government_income,
        investment_income,
        other_income,
        expense_total,
        programme_expense,
        admin_expense,
        fundraising_expense,
        other_expense,
        net_assets,
        full_time_staff,
        volunteers,
        members,
        export_date,
        source_file,
        source_row
    from delivered
)

select * from renamed
