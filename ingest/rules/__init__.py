"""The contract with the exports: typing rules, layouts, credit codes, personal data."""
