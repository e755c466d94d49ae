"""Who may use the API and pages: users, passwords, expiring tokens, roles, the audit log
of every write and the masking of phone numbers. It decides who; it knows no call logic."""
