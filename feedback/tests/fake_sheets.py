"""A fake Google Sheets API on 127.0.0.1, just large enough for what gspread does in sync_sheets.

It implements the OAuth token endpoint (verifying the service account's RS256-signed JWT), the
spreadsheet metadata, values get / append / batchUpdate, batchUpdate addSheet and the Drive file
listing used to open a spreadsheet by name. Faults can be queued per request: a 429 or 500
answered instead of the request, a dropped connection (once), a 500 answered after the write was
applied, or a crash after the write (the connection drops and the server stays down until
`restart`).
"""
import base64
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from gspread.utils import a1_to_rowcol

SPREADSHEET_ID = "fake-spreadsheet-key"
SPREADSHEET_TITLE = "hwr feedback"


class FakeSheets:
    def __init__(self, public_key):
        self.public_key = public_key
        self.worksheets = {}  # title -> {"sheetId": int, "rows": [[value, ...], ...]}
        self.faults = []  # [(method, path regex, fault)], consumed first match first
        self.requests = []  # (method, path, answered status or "dropped")
        self.tokens = set()
        self.down = False
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.fake = self
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()

    def inject(self, method, path_pattern, fault):
        """Queue a fault for the next matching request: "429" or "500" instead of serving it,
        "drop" (close the connection without an answer), "500-after-write", "crash-after-write", or "pass" (serve it; lets a later one match)."""
        self.faults.append((method, re.compile(path_pattern), fault))

    def restart(self):
        """The server comes back after a crash, with the data it had."""
        self.down = False

    def column(self, title, number=1):
        return [row[number - 1] if len(row) >= number else None for row in self.worksheets[title]["rows"]]

    def set_cell(self, title, row, column, value):
        """A reviewer edits a cell in the browser."""
        self.worksheets[title]["rows"][row - 1][column - 1] = value

    def calls(self, method, pattern):
        return [path for m, path, _ in self.requests if m == method and re.search(pattern, path)]

    # --- request handling ---

    def handle(self, handler, method):
        split = urlsplit(handler.path)
        path, query = unquote(split.path), parse_qs(split.query)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self.lock:
            if self.down:
                self.requests.append((method, path, "dropped"))
                return None
            fault = self._take_fault(method, path)
            if fault == "drop":
                self.requests.append((method, path, "dropped"))
                return None
            if fault in ("429", "500"):
                status, answer = int(fault), _error(int(fault), "injected fault")
            else:
                try:
                    status, answer = self._route(handler, method, path, query, body)
                except (KeyError, ValueError, TypeError) as error:  # a request the fake cannot serve
                    status, answer = 400, _error(400, f"fake cannot serve {method} {path}: {error!r}")
            if fault == "500-after-write":
                status, answer = 500, _error(500, "injected fault after the write")
            if fault == "crash-after-write":
                self.down = True
                self.requests.append((method, path, "dropped"))
                return None
            self.requests.append((method, path, status))
            return status, answer

    def _take_fault(self, method, path):
        for index, (fault_method, pattern, fault) in enumerate(self.faults):
            if fault_method == method and pattern.search(path):
                del self.faults[index]
                return fault
        return None

    def _route(self, handler, method, path, query, body):
        if method == "POST" and path == "/token":
            return self._token(body)
        if handler.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return 401, _error(401, "Request had invalid authentication credentials.")
        if method == "GET" and path == "/drive/v3/files":
            title = re.search(r'name = "(.*?)"', query["q"][0]).group(1)
            files = [{"id": SPREADSHEET_ID, "name": SPREADSHEET_TITLE}] if title == SPREADSHEET_TITLE else []
            return 200, {"kind": "drive#fileList", "files": files}
        match = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(.*)", path)
        if not match or match.group(1) != SPREADSHEET_ID:
            return 404, _error(404, "Requested entity was not found.")
        rest = match.group(2)
        payload = json.loads(body) if body else {}
        if method == "GET" and rest == "":
            return 200, self._metadata()
        if method == "POST" and rest == ":batchUpdate":
            return self._batch_update(payload)
        if method == "POST" and rest == "/values:batchUpdate":
            return self._values_batch_update(payload)
        values = re.fullmatch(r"/values/(.+?)(:append)?", rest)
        if values and method == "GET" and not values.group(2):
            return self._values_get(values.group(1), query)
        if values and method == "POST" and values.group(2):
            return self._values_append(values.group(1), payload)
        return 400, _error(400, f"the fake does not implement {method} {path}")

    def _token(self, body):
        form = parse_qs(body.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return 400, {"error": "unsupported_grant_type"}
        header, claims, signature = form["assertion"][0].split(".")
        try:
            self.public_key.verify(
                _b64decode(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except Exception:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        if "spreadsheets" not in json.loads(_b64decode(claims)).get("scope", ""):
            return 400, {"error": "invalid_scope"}
        token = uuid.uuid4().hex
        self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def _properties(self, title):
        sheet = self.worksheets[title]
        return {
            "sheetId": sheet["sheetId"],
            "title": title,
            "index": list(self.worksheets).index(title),
            "sheetType": "GRID",
            "gridProperties": {"rowCount": max(len(sheet["rows"]), 1), "columnCount": 26},
        }

    def _metadata(self):
        return {
            "spreadsheetId": SPREADSHEET_ID,
            "properties": {"title": SPREADSHEET_TITLE, "locale": "en_US", "timeZone": "Etc/GMT"},
            "sheets": [{"properties": self._properties(title)} for title in self.worksheets],
        }

    def _batch_update(self, payload):
        replies = []
        for request in payload["requests"]:
            title = request["addSheet"]["properties"]["title"]
            if title in self.worksheets:
                return 400, _error(400, f'A sheet with the name "{title}" already exists.')
            self.worksheets[title] = {"sheetId": len(self.worksheets) + 1, "rows": []}
            replies.append({"addSheet": {"properties": self._properties(title)}})
        return 200, {"spreadsheetId": SPREADSHEET_ID, "replies": replies}

    def _parse_range(self, a1_range):
        title, _, cells = a1_range.partition("!")
        title = title.strip("'").replace("''", "'")
        if title not in self.worksheets:
            raise KeyError(title)
        start, _, end = cells.partition(":")
        first_row, first_col = _corner(start, default=(1, 1))
        last_row, last_col = _corner(end or start, default=(None, None)) if cells else (None, None)
        return self.worksheets[title]["rows"], title, first_row, first_col, last_row, last_col

    def _values_get(self, a1_range, query):
        try:
            rows, _, first_row, first_col, last_row, last_col = self._parse_range(a1_range)
        except KeyError:
            return 400, _error(400, f"Unable to parse range: {a1_range}")
        grid = [
            [_formatted(value) for value in row[first_col - 1:last_col]]
            for row in rows[first_row - 1:last_row]
        ]
        grid = [_trim(row) for row in grid]
        while grid and not grid[-1]:
            grid.pop()
        dimension = query.get("majorDimension", ["ROWS"])[0]
        if dimension == "COLUMNS":
            width = max((len(row) for row in grid), default=0)
            grid = [_trim([row[c] if c < len(row) else "" for row in grid]) for c in range(width)]
        answer = {"range": a1_range, "majorDimension": dimension}
        if grid:
            answer["values"] = grid
        return 200, answer

    def _write(self, rows, top, left, values):
        for offset, row_values in enumerate(values):
            while len(rows) < top + offset:
                rows.append([])
            row = rows[top + offset - 1]
            row.extend([None] * (left - 1 + len(row_values) - len(row)))
            row[left - 1:left - 1 + len(row_values)] = row_values

    def _values_append(self, a1_range, payload):
        rows, title, *_ = self._parse_range(a1_range)
        last_used = max((number for number, row in enumerate(rows, 1) if _trim(row)), default=0)
        values = payload["values"]
        self._write(rows, last_used + 1, 1, values)
        width = max(len(row) for row in values)
        updated = f"{title}!A{last_used + 1}:{_column_letter(width)}{last_used + len(values)}"
        return 200, {
            "spreadsheetId": SPREADSHEET_ID,
            "tableRange": f"{title}!A1:{_column_letter(width)}{last_used}",
            "updates": {"spreadsheetId": SPREADSHEET_ID, "updatedRange": updated,
                        "updatedRows": len(values), "updatedColumns": width,
                        "updatedCells": sum(len(row) for row in values)},
        }

    def _values_batch_update(self, payload):
        for data in payload["data"]:
            rows, _, first_row, first_col, *_ = self._parse_range(data["range"])
            self._write(rows, first_row, first_col, data["values"])
        return 200, {"spreadsheetId": SPREADSHEET_ID, "totalUpdatedRows": len(payload["data"])}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self._answer("GET")

    def do_POST(self):
        self._answer("POST")

    def do_PUT(self):
        self._answer("PUT")

    def _answer(self, method):
        result = self.server.fake.handle(self, method)
        if result is None:  # crashed: drop the connection without an answer
            self.close_connection = True
            return
        status, answer = result
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _error(code, message):
    status = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 404: "NOT_FOUND",
              429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}[code]
    return {"error": {"code": code, "message": message, "status": status}}


def _b64decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _corner(cell, default):
    """Row and column (1-based) of an A1 corner such as "B3", "A" or "7"; missing parts default."""
    letters, digits = re.fullmatch(r"([A-Z]*)(\d*)", cell).groups()
    row = int(digits) if digits else default[0]
    col = a1_to_rowcol(f"{letters}1")[1] if letters else default[1]
    return row, col


def _column_letter(number):
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _formatted(value):
    """How the Sheets API renders a cell as FORMATTED_VALUE."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def _trim(row):
    row = list(row)
    while row and row[-1] in ("", None):
        row.pop()
    return row
