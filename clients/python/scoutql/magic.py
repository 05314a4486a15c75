"""
`%%scoutql`: a GraphQL cell whose answer is a DataFrame.

    %load_ext scoutql
    %scoutql_connect http://127.0.0.1:4000/graphql        # or set SCOUTQL_URL (SCOUTQL_API_KEY, SCOUTQL_TOKEN)

    %%scoutql --out logins
    query($ip: String!, $window: TimeWindow!) {
      ip(address: $ip, window: $window) { identities { edges { eventCount node { identityId } } } }
    }

The operation's variables are taken from the notebook by name (`ip`, `window` above); a
TimeWindow may be a (start, end) tuple. `--paginate PATH` follows the connection at PATH
through every page (the document declares `$first: Int, $after: String`).
"""
from __future__ import annotations

import os
import re
import shlex
from datetime import date, datetime
from typing import Any, Dict, Mapping

from .client import DEFAULT_URL, Client
from .frames import to_frame
from .windows import as_variable, instant, iso, window

# `$name: Type` in the operation's variable definitions.
_VARIABLE = re.compile(r"\$(\w+)\s*:\s*(\[?\s*\w+)")


def variables_from(doc: str, namespace: Mapping[str, Any], skip: tuple = ()) -> Dict[str, Any]:
    """The document's variables, looked up by name in the notebook; missing ones are left out."""
    values: Dict[str, Any] = {}
    for name, type_name in _VARIABLE.findall(doc):
        if name in skip or name not in namespace:
            continue
        value = namespace[name]
        if type_name.strip() == "TimeWindow":
            value = as_variable(window(value))
        elif type_name.strip() == "DateTime" and isinstance(value, (datetime, date)):
            value = iso(instant(value))
        values[name] = value
    return values


def _parse_line(line: str) -> Dict[str, Any]:
    options: Dict[str, Any] = {"out": None, "path": None, "paginate": None, "max_rows": None, "client": None}
    words = shlex.split(line)
    i = 0
    while i < len(words):
        flag = words[i]
        key = flag.lstrip("-").replace("-", "_")
        if not flag.startswith("--") or key not in options or i + 1 >= len(words):
            raise ValueError(f"%%scoutql: unknown or incomplete option {flag!r}; options: --out NAME --path A.B --paginate A.B --max-rows N --client NAME")
        options[key] = int(words[i + 1]) if key == "max_rows" else words[i + 1]
        i += 2
    return options


class _Magics:
    """Holds the notebook's default client; registered with IPython by `load_ipython_extension`."""

    def __init__(self, shell: Any):
        self.shell = shell
        self.client = Client(
            os.environ.get("SCOUTQL_URL", DEFAULT_URL),
            api_key=os.environ.get("SCOUTQL_API_KEY"),
            token=os.environ.get("SCOUTQL_TOKEN"),
        )

    def connect(self, line: str) -> Client:
        """%scoutql_connect URL [--api-key KEY] [--token TOKEN]: the client `%%scoutql` cells use."""
        words = shlex.split(line)
        if not words:
            return self.client
        options = {"api_key": None, "token": None}
        for flag, value in zip(words[1::2], words[2::2]):
            key = flag.lstrip("-").replace("-", "_")
            if key not in options:
                raise ValueError(f"%scoutql_connect: unknown option {flag!r}")
            options[key] = value
        self.client.close()
        self.client = Client(words[0], **options)
        return self.client

    def cell(self, line: str, cell: str) -> Any:
        options = _parse_line(line)
        namespace = self.shell.user_ns
        client = namespace[options["client"]] if options["client"] else self.client
        if options["paginate"]:
            variables = variables_from(cell, namespace, skip=("first", "after"))
            result = client.paginate(cell, options["paginate"], options["max_rows"], variables)
        else:
            data = client.query(cell, variables_from(cell, namespace))
            result = to_frame(data, options["path"])
        if options["out"]:
            namespace[options["out"]] = result
        return result


def load_ipython_extension(ipython: Any) -> None:
    magics = _Magics(ipython)
    ipython.register_magic_function(magics.cell, magic_kind="cell", magic_name="scoutql")
    ipython.register_magic_function(magics.connect, magic_kind="line", magic_name="scoutql_connect")
