"""Static files: long-lived caching only for URLs that carry the file's content hash."""

from __future__ import annotations

import re


def test_versioned_url_is_cached_for_a_year(client):
    page = client.get("/login").get_data(as_text=True)
    url = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.get(url)
    r.close()
    assert r.status_code == 200
    assert r.cache_control.max_age == 365 * 24 * 3600 and r.cache_control.immutable


def test_unversioned_or_stale_url_gets_the_short_lifetime(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=0000000000"):
        r = client.get(url)
        r.close()
        assert r.status_code == 200
        assert r.cache_control.max_age == 7 * 24 * 3600 and not r.cache_control.immutable
