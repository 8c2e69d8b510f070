"""What happens to a citizen that other features react to, without citizens importing them.

``cpr_on_file`` is sent (with ``citizen_id``) after a CPR number was put on file, in the same
transaction: the record feature releases the entries that waited for it (record/__init__.py).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()
cpr_on_file = _signals.signal("cpr-on-file")
