"""Delivery of job-log entries to the municipal record (Joblog's data in DFDG)."""
