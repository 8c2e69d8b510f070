"""Development tools that are not the product: never imported by ``joblog_app``."""
