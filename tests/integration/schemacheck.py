"""A small JSON Schema validator (Python stdlib) for the official MCP schema
files, so protocol tests can check every message the server writes.

    from schemacheck import mcp_schema
    s = mcp_schema("2026-07-28")          # or "2025-11-25", "ext-tasks"
    s.check(message, "JSONRPCMessage")     # raises AssertionError
    errors = s.errors(result, "CallToolResult")

Supports what those files use: $ref (local, #/$defs/...), type (incl.
integer vs number and type lists), properties, required, items,
additionalProperties (bool or schema), enum, const, anyOf, oneOf, allOf,
not, propertyNames, minimum, maximum, exclusiveMinimum, exclusiveMaximum,
minItems, maxItems, minLength, maxLength, minProperties, maxProperties,
format "uri". Annotations ($schema, $id, title, description, ...) pass.

The schema files are looked up in ../shared/mcp beside the repository (how
CI clones it), then /work/shared/mcp; MCP_SCHEMA_DIR overrides both.
"""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FILES = {
    "2025-11-25": "schema-2025-11-25.json",
    "2026-07-28": "schema-2026-07-28.json",
    "ext-tasks": "schema-ext-tasks.json",
}


def schema_dir():
    for d in (os.environ.get("MCP_SCHEMA_DIR"),
              os.path.join(os.path.dirname(ROOT), "shared", "mcp"),
              "/work/shared/mcp"):
        if d and os.path.isfile(os.path.join(d, FILES["2026-07-28"])):
            return d
    raise FileNotFoundError("MCP schema files not found (../shared/mcp)")


_cache = {}


def mcp_schema(name):
    if name not in _cache:
        with open(os.path.join(schema_dir(), FILES[name]),
                  encoding="utf-8") as f:
            _cache[name] = SchemaFile(json.load(f), name)
    return _cache[name]


def _json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "integer" if v.is_integer() else "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "unknown"


def _is_type(v, t):
    jt = _json_type(v)
    if t == "number":
        return jt in ("number", "integer")
    return jt == t


def _equal(a, b):
    """JSON equality: 1 == 1.0, but true != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


class SchemaFile:
    MAX_DEPTH = 200

    def __init__(self, doc, name=""):
        self.doc = doc
        self.name = name

    def _resolve(self, ref):
        if not ref.startswith("#"):
            raise ValueError(f"non-local $ref {ref}")
        node = self.doc
        for part in ref[1:].split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[part]
        return node

    def errors(self, instance, defname="JSONRPCMessage"):
        """All problems found (empty list when valid)."""
        out = []
        self._check(self.doc["$defs"][defname], instance, "$", out, 0)
        return out

    def check(self, instance, defname="JSONRPCMessage"):
        errs = self.errors(instance, defname)
        if errs:
            raise AssertionError(
                f"not a valid {defname} ({self.name}):\n  "
                + "\n  ".join(errs[:8]) + "\nmessage: "
                + json.dumps(instance)[:1500])

    # -- the keywords ------------------------------------------------------
    def _check(self, s, v, path, out, depth):
        if depth > self.MAX_DEPTH:
            out.append(f"{path}: schema nesting too deep")
            return
        if s is True or s == {}:
            return
        if s is False:
            out.append(f"{path}: not allowed")
            return
        if "$ref" in s:
            self._check(self._resolve(s["$ref"]), v, path, out, depth + 1)
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if not any(_is_type(v, t) for t in types):
                out.append(f"{path}: expected {'/'.join(types)}, got "
                           f"{_json_type(v)}")
                return
        if "const" in s and not _equal(s["const"], v):
            out.append(f"{path}: expected const {s['const']!r}, got {v!r}")
        if "enum" in s and not any(_equal(e, v) for e in s["enum"]):
            out.append(f"{path}: {v!r} not in {s['enum']!r}")
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            self._number(s, v, path, out)
        if isinstance(v, str):
            self._string(s, v, path, out)
        if isinstance(v, list):
            self._array(s, v, path, out, depth)
        if isinstance(v, dict):
            self._object(s, v, path, out, depth)
        self._combinators(s, v, path, out, depth)

    def _number(self, s, v, path, out):
        if "minimum" in s and v < s["minimum"]:
            out.append(f"{path}: {v} < minimum {s['minimum']}")
        if "maximum" in s and v > s["maximum"]:
            out.append(f"{path}: {v} > maximum {s['maximum']}")
        if "exclusiveMinimum" in s and v <= s["exclusiveMinimum"]:
            out.append(f"{path}: {v} <= exclusiveMinimum")
        if "exclusiveMaximum" in s and v >= s["exclusiveMaximum"]:
            out.append(f"{path}: {v} >= exclusiveMaximum")

    def _string(self, s, v, path, out):
        if "minLength" in s and len(v) < s["minLength"]:
            out.append(f"{path}: shorter than {s['minLength']}")
        if "maxLength" in s and len(v) > s["maxLength"]:
            out.append(f"{path}: longer than {s['maxLength']}")
        if s.get("format") == "uri" and ":" not in v:
            out.append(f"{path}: {v!r} is not a URI")

    def _array(self, s, v, path, out, depth):
        if "minItems" in s and len(v) < s["minItems"]:
            out.append(f"{path}: fewer than {s['minItems']} items")
        if "maxItems" in s and len(v) > s["maxItems"]:
            out.append(f"{path}: more than {s['maxItems']} items")
        items = s.get("items")
        if isinstance(items, list):
            for i, (it, sub) in enumerate(zip(v, items)):
                self._check(sub, it, f"{path}[{i}]", out, depth + 1)
        elif items is not None:
            for i, it in enumerate(v):
                self._check(items, it, f"{path}[{i}]", out, depth + 1)

    def _object(self, s, v, path, out, depth):
        props = s.get("properties", {})
        for key in s.get("required", []):
            if key not in v:
                out.append(f"{path}: missing required {key!r}")
        if "minProperties" in s and len(v) < s["minProperties"]:
            out.append(f"{path}: fewer than {s['minProperties']} properties")
        if "maxProperties" in s and len(v) > s["maxProperties"]:
            out.append(f"{path}: more than {s['maxProperties']} properties")
        add = s.get("additionalProperties", True)
        for key, val in v.items():
            if "propertyNames" in s:
                self._check(s["propertyNames"], key, f"{path}.<{key}>", out,
                            depth + 1)
            if key in props:
                self._check(props[key], val, f"{path}.{key}", out, depth + 1)
            elif add is False:
                out.append(f"{path}: unexpected property {key!r}")
            elif isinstance(add, dict):
                self._check(add, val, f"{path}.{key}", out, depth + 1)

    def _combinators(self, s, v, path, out, depth):
        for sub in s.get("allOf", []):
            self._check(sub, v, path, out, depth + 1)
        for kw in ("anyOf", "oneOf"):
            if kw not in s:
                continue
            results = []
            for sub in s[kw]:
                errs = []
                self._check(sub, v, path, errs, depth + 1)
                results.append(errs)
            ok = sum(1 for e in results if not e)
            if ok == 0:
                best = min(results, key=len)
                out.append(f"{path}: matches no branch of {kw}; closest: "
                           + "; ".join(best[:3]))
            elif kw == "oneOf" and ok > 1:
                out.append(f"{path}: matches {ok} branches of oneOf")
        if "not" in s:
            errs = []
            self._check(s["not"], v, path, errs, depth + 1)
            if not errs:
                out.append(f"{path}: matches a 'not' schema")


# -- whole sessions ----------------------------------------------------------

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
RESULT_DEFS = {
    LEGACY: {"initialize": "InitializeResult", "tools/list": "ListToolsResult",
             "tools/call": "CallToolResult", "ping": "EmptyResult",
             "logging/setLevel": "EmptyResult"},
    MODERN: {"server/discover": "DiscoverResult",
             "tools/list": "ListToolsResult", "tools/call": "CallToolResult",
             "ping": "EmptyResult",
             "subscriptions/listen": "SubscriptionsListenResult"},
}
# Resources, prompts and completion: the same result types in both eras.
for _era in (LEGACY, MODERN):
    RESULT_DEFS[_era].update({
        "resources/list": "ListResourcesResult",
        "resources/templates/list": "ListResourceTemplatesResult",
        "resources/read": "ReadResourceResult",
        "prompts/list": "ListPromptsResult",
        "prompts/get": "GetPromptResult",
        "completion/complete": "CompleteResult"})
RESULT_DEFS[LEGACY].update({"resources/subscribe": "EmptyResult",
                            "resources/unsubscribe": "EmptyResult"})
# Requests the server may send (handshake era).
SERVER_REQUESTS = {"roots/list": "ListRootsRequest"}
# Notifications not tied to a request: the era is the one whose delivery
# they use (a subscriptions/listen stream tags them with its id).
STREAM_NOTIFICATIONS = {
    "notifications/resources/updated": "ResourceUpdatedNotification",
    "notifications/resources/list_changed":
        "ResourceListChangedNotification",
    "notifications/subscriptions/acknowledged":
        "SubscriptionsAcknowledgedNotification",
}
TASK_RESULT_DEFS = {"tasks/get": "GetTaskResult",
                    "tasks/cancel": "CancelTaskResult",
                    "tasks/update": "UpdateTaskResult"}
ERROR_DEFS = {-32022: "UnsupportedProtocolVersionError",
              -32021: "MissingRequiredClientCapabilityError"}


def _key(rid):
    return (type(rid).__name__, rid)


def _meta_of(req):
    params = req.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return meta if isinstance(meta, dict) else {}


def request_era(req):
    """The era a request is served in: its _meta protocol version says."""
    if req is None:
        return LEGACY
    if req.get("method") == "server/discover":
        return MODERN
    meta = _meta_of(req)
    v = meta.get("io.modelcontextprotocol/protocolVersion")
    return MODERN if v is not None and v not in (
        "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05") else LEGACY


def check_transcript(sent, messages):
    """Validate every server message against the schema of the era of the
    request it belongs to. sent: the client's messages; messages: the
    server's. Raises AssertionError on the first bad message."""
    requests = {_key(m["id"]): m for m in sent
                if isinstance(m, dict) and "id" in m and "method" in m}
    token_era = {}
    for req in requests.values():
        tok = _meta_of(req).get("progressToken")
        if tok is not None:
            token_era[_key(tok)] = request_era(req)
    handshake = any(isinstance(m, dict) and m.get("method") == "initialize"
                    for m in sent)
    for m in messages:
        assert isinstance(m, dict), f"not a JSON object: {m!r}"
        if "method" in m and "id" in m:
            # Requests to the client exist only in the handshake era (the
            # stateless era asks through input_required results).
            assert handshake, f"a request to a stateless client: {m}"
            mcp_schema(LEGACY).check(m, "ServerRequest")
            if m["method"] in SERVER_REQUESTS:
                mcp_schema(LEGACY).check(m, SERVER_REQUESTS[m["method"]])
            continue
        if "method" in m:
            _check_notification(m, token_era)
            continue
        if "error" in m and "id" in m and m["id"] is None:
            # JSON-RPC 2.0 section 5: a request whose id could not be read
            # (parse error, invalid request) is answered with "id": null.
            # MCP types ids as string|integer; this is the one exception.
            assert m["error"].get("code") in (-32700, -32600), m
            m = {k: v for k, v in m.items() if k != "id"}
        req = requests.get(_key(m.get("id"))) if m.get("id") is not None \
            else None
        era = request_era(req)
        s = mcp_schema(era)
        s.check(m, "JSONRPCMessage")
        if "error" in m:
            s.check(m, "JSONRPCErrorResponse")
            code = m["error"]["code"]
            if code in ERROR_DEFS:
                mcp_schema(MODERN).check(m, ERROR_DEFS[code])
            continue
        s.check(m, "JSONRPCResultResponse")
        method = req["method"] if req else None
        result = m["result"]
        if era == LEGACY:
            assert "resultType" not in result, \
                f"handshake-era result carries resultType: {m}"
        if method in TASK_RESULT_DEFS:
            mcp_schema("ext-tasks").check(result, TASK_RESULT_DEFS[method])
            # A task waiting for input: each request is also what the
            # core schema calls an InputRequest (as in input_required).
            if result.get("status") == "input_required":
                for r in result["inputRequests"].values():
                    mcp_schema(MODERN).check(r, "InputRequest")
        elif method == "tools/call" and result.get("resultType") == "task":
            mcp_schema("ext-tasks").check(result, "CreateTaskResult")
        elif method == "tools/call" and \
                result.get("resultType") == "input_required":
            assert era == MODERN, m
            s.check(result, "InputRequiredResult")
            for r in result.get("inputRequests", {}).values():
                s.check(r, "InputRequest")
        elif method in RESULT_DEFS[era]:
            s.check(result, RESULT_DEFS[era][method])


def _check_notification(m, token_era):
    method = m["method"]
    if method == "notifications/progress":
        tok = (m.get("params") or {}).get("progressToken")
        era = token_era.get(_key(tok))
        assert era, f"progress for a token no request carried: {m}"
        mcp_schema(era).check(m, "ProgressNotification")
    elif method == "notifications/message":
        for era in (LEGACY, MODERN):
            mcp_schema(era).check(m, "LoggingMessageNotification")
    elif method in STREAM_NOTIFICATIONS:
        params = m.get("params") or {}
        meta = params.get("_meta") or {}
        era = MODERN if "io.modelcontextprotocol/subscriptionId" in meta \
            or method == "notifications/subscriptions/acknowledged" \
            else LEGACY
        mcp_schema(era).check(m, STREAM_NOTIFICATIONS[method])
    elif method == "notifications/cancelled":
        # The server giving up on its own request (handshake era).
        mcp_schema(LEGACY).check(m, "CancelledNotification")
    elif method == "notifications/elicitation/complete":
        mcp_schema(LEGACY).check(m, "ElicitationCompleteNotification")
    else:
        raise AssertionError(f"unexpected notification from the server: {m}")
