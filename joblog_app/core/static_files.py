"""Static files served from memory.

Flask streams static files from an open file handle; when a client drops the connection
mid-stream (a service worker's precache being replaced, a phone going offline), the
compressing middleware leaves that handle open. The files are small, so they are read once
(per change) and served from bytes: compressed as before, nothing left open.

A URL made by ``static_url`` carries the file's content hash (``?v=``): when it matches the
file, the answer may be cached for a year without asking again (``immutable``), because a
changed file gets another URL. Without it, or with an old hash, the usual short lifetime.
"""

from __future__ import annotations

import hashlib
import io
import os
from datetime import UTC, datetime
from functools import lru_cache

from flask import Flask, Response, abort, request, send_file
from werkzeug.security import safe_join

ONE_YEAR = 365 * 24 * 3600
VERSION_LENGTH = 10  # characters of the SHA-256 hex digest in ``static_url``'s ``v``


@lru_cache(maxsize=256)
def _read(path: str, mtime_ns: int) -> tuple[bytes, str]:
    with open(path, "rb") as f:
        data = f.read()
    return data, hashlib.sha256(data).hexdigest()[:20]


class JoblogFlask(Flask):
    def send_static_file(self, filename: str) -> Response:
        path = safe_join(self.static_folder or "", filename)
        if path is None or not os.path.isfile(path):
            abort(404)
        stat = os.stat(path)
        data, etag = _read(path, stat.st_mtime_ns)
        versioned = request.args.get("v") == etag[:VERSION_LENGTH]
        response = send_file(io.BytesIO(data), download_name=os.path.basename(path), etag=etag,
                             last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
                             max_age=ONE_YEAR if versioned else self.get_send_file_max_age(filename),
                             conditional=True)
        if versioned:
            response.cache_control.immutable = True
        return response
