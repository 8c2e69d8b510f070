"""The ``export`` gateway: files a municipality without an API can journalise.

Per municipality and month: ``entries.csv`` (one row per create, update and cancellation,
cells that a spreadsheet would run as a formula neutralised) and one printable HTML page
per citizen listing what was registered. The folder holds CPR numbers: it must be on the
municipality's access-controlled journal share.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import hmac
import html
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from .gateway import Delivery, Op, Outcome, Result

CSV_COLUMNS = ["exported_at", "operation", "request_id", "record_id", "cpr", "citizen",
               "kind", "date", "employer", "title", "status", "method", "contact_person",
               "description", "deadline", "ad_url", "entered_by"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """Stop spreadsheets from running a cell as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several workers may export at once
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class ExportGateway:
    def __init__(self, folder: str | Path, municipality_code: str, name_key: bytes) -> None:
        self.folder = Path(folder) / municipality_code
        # Keys the per-citizen file names: an unkeyed hash of a CPR number is easy to reverse
        # (there are only a few million of them).
        if not name_key:
            raise ValueError("the export gateway needs a key for its file names")
        self.name_key = name_key

    def deliver(self, d: Delivery) -> Outcome:
        record_id = d.record_id or f"export-{d.lookup_request_id}"
        month_dir = self.folder / d.month
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = d.body or {}
        row = {
            "exported_at": now, "operation": d.op.value, "request_id": d.request_id,
            "record_id": record_id, "cpr": d.cpr, "citizen": d.citizen_label,
            "kind": body.get("kind"), "date": body.get("date"), "employer": body.get("employer"),
            "title": body.get("title"), "status": body.get("status"),
            "method": body.get("method"), "contact_person": body.get("contactPerson"),
            "description": body.get("description"), "deadline": body.get("deadline"),
            "ad_url": body.get("adUrl"), "entered_by": body.get("enteredBy"),
        }
        csv_path = month_dir / "entries.csv"
        with _locked(csv_path):
            # A resend with the same request id (a worker's lease ran out mid-send) is
            # answered as done without a second row, like the record's 412.
            if d.request_id not in self._request_ids(csv_path):
                self._append_csv(csv_path, row)
                self._update_citizen_page(month_dir, d, record_id)
        return Outcome(Result.DONE, record_id=record_id)

    @staticmethod
    def _request_ids(path: Path) -> set[str]:
        if not path.exists():
            return set()
        with open(path, encoding="utf-8", newline="") as f:
            return {row["request_id"] for row in csv.DictReader(f)}

    @staticmethod
    def _append_csv(path: Path, row: dict[str, object]) -> None:
        new = not path.exists()
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow({k: neutralise(v) for k, v in row.items()})
        with open(path, "a", encoding="utf-8", newline="") as f:
            f.write(buffer.getvalue())

    def _update_citizen_page(self, month_dir: Path, d: Delivery, record_id: str) -> None:
        # The citizen's month is kept as JSON lines; the HTML page is rebuilt from it.
        key = _citizen_key(d, self.name_key)
        state_path = month_dir / f"citizen-{key}.jsonl"
        with open(state_path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"op": d.op.value, "record_id": record_id, "body": d.body}) + "\n")
        entries: dict[str, dict[str, object]] = {}
        for line in state_path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if item["op"] == Op.CANCEL.value:
                entries.pop(item["record_id"], None)
            else:
                entries[item["record_id"]] = item["body"] or {}
        (month_dir / f"citizen-{key}.html").write_text(
            _citizen_html(d.citizen_label, d.cpr, d.month, list(entries.values())),
            encoding="utf-8")


def _citizen_key(d: Delivery, key: bytes) -> str:
    """A stable file name that does not reveal the CPR number (keyed hash)."""
    return hmac.new(key, d.cpr.encode(), hashlib.sha256).hexdigest()[:16]


def _citizen_html(name: str, cpr: str, month: str, entries: list[dict[str, object]]) -> str:
    e = html.escape
    rows = "\n".join(
        "<tr>" + "".join(f"<td>{e(str(x.get(k) or ''))}</td>"
                         for k in ("date", "kind", "employer", "title", "status", "description"))
        + "</tr>" for x in sorted(entries, key=lambda x: str(x.get("date") or ""))
    )
    return f"""<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>Jobsøgning {e(month)}</title>
<style>body{{font-family:sans-serif}}table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #000;padding:4px;text-align:start}}</style></head>
<body><h1>Jobsøgning {e(month)}</h1><p>{e(name)} · CPR {e(cpr)}</p>
<table><thead><tr><th>Dato</th><th>Type</th><th>Arbejdsgiver</th><th>Stilling</th>
<th>Status</th><th>Beskrivelse</th></tr></thead><tbody>
{rows}
</tbody></table><p>{len(entries)} registreringer.</p></body></html>
"""
