"""The reference record service: the record contract over HTTP, with switchable faults.

Implements ``docs/record-api.openapi.yaml`` - OAuth2 client credentials, ``x-requestId``
idempotency with 412 on a repeated id, ``x-civilRegistrationIdentifier`` - for development,
demos and tests; see ``docs/reference-record-service.md``. Not part of the product:
``joblog_app`` never imports it.

    python -m devtools.reference_record --port 8089 --db /tmp/record.sqlite

    with ReferenceRecordService("/tmp/record.sqlite", client_secret="s") as service:
        service.url            # "http://127.0.0.1:<port>"
        service.set_faults(error_rate=0.5, seed=1)
        service.records(), service.stats()

Modules: ``app`` (routes and handlers), ``server`` (HTTP and the Python API), ``store``
(SQLite), ``oauth`` (tokens), ``faults``, ``validation`` (the entry rules).
"""

from .server import ReferenceRecordService, serve

__all__ = ["ReferenceRecordService", "serve"]
