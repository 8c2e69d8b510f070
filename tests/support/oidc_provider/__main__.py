"""``python -m tests.support.oidc_provider``: the test OpenID provider for ``make run``."""

from . import main

main()
