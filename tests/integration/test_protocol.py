"""Protocol tests: build/nemo-mcp driven over pipes with good and hostile
input, in both MCP eras, against the reference backend. Every message the
server writes is validated against the official schema of the era of the
request it belongs to (tests/integration/schemacheck.py)."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "backend"))

from mcpclient import BIN, McpProcess, text_of  # noqa: E402
import schemacheck  # noqa: E402
from protocol_case import SchemaCheckedCase  # noqa: E402

MODERN = "2026-07-28"
HANDSHAKE_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
TOOLS = ["credits", "session", "upload", "generate", "job", "state", "export"]
CREDITS_PATH = "/api/credits/balance/simple"
TASKS_EXT = "io.modelcontextprotocol/tasks"


class ProtocolTest(SchemaCheckedCase):
    backend_seed = 7

    def start(self, env=None, **kw):
        e = {"NEMO_API_BASE": self.rb.url, "NEMO_LOG": "warn"}
        e.update(env or {})
        p = McpProcess(env=e, **kw)
        self.procs.append(p)
        return p

    def modern(self, p, **kw):
        return p.stateless_meta(**kw)

    def hang_credits(self, count=1):
        self.rb.fault(CREDITS_PATH, "hang", count=count)

    def raw_request(self, p, msg):
        """Send msg as-is and remember it (for the era check)."""
        p.sent.append(msg)
        p.send_raw(json.dumps(msg) + "\n")
        return p.wait_response(msg["id"])

    def assert_error(self, resp, code, rid="same"):
        self.assertIn("error", resp, resp)
        self.assertEqual(resp["error"]["code"], code, resp)
        if rid != "same":
            self.assertEqual(resp.get("id", "missing"), rid)

    def ended(self, p):
        """End of input, and the server has exited: every call has ended
        and everything it ever wrote has been read (no waiting for things
        to settle)."""
        p.close_stdin()
        self.assertEqual(p.wait_exit(10), 0)
        p._reader.join(10)

    def no_response_for(self, p, rid):
        """Prove no response comes for rid: a ping sent afterwards is
        answered, then the server is run to its end."""
        pong = p.request("ping")
        self.assertNotIn("error", pong)
        self.ended(p)
        self.assertEqual(p.responses_for(rid), [])

    # -- handshake era --------------------------------------------------
    def test_initialize_negotiates_versions(self):
        for v in HANDSHAKE_VERSIONS:
            with self.subTest(version=v):
                p = self.start()
                r = p.initialize(v)["result"]
                self.assertEqual(r["protocolVersion"], v)
                self.assertEqual(r["serverInfo"]["name"], "nemo-mcp")
                self.assertEqual(r["capabilities"]["tools"],
                                 {"listChanged": False})
                self.assertIn("logging", r["capabilities"])
                self.assertIn("job", r["instructions"])
                self.assertIn("never tell the user to click",
                              r["instructions"])
        for asked in ("2099-12-31", "1999-01-01", MODERN, "banana"):
            with self.subTest(asked=asked):
                p = self.start()
                r = p.initialize(asked)["result"]
                self.assertEqual(r["protocolVersion"], "2025-11-25")

    def test_initialize_without_version_is_invalid_params(self):
        p = self.start()
        self.assert_error(p.request("initialize", {"capabilities": {}}),
                          -32602)

    def test_ping_and_set_level(self):
        p = self.start()
        p.initialize()
        self.assertEqual(p.request("ping")["result"], {})
        self.assertEqual(p.request("logging/setLevel",
                                   {"level": "warning"})["result"], {})
        self.assert_error(p.request("logging/setLevel", {"level": "loud"}),
                          -32602)
        self.assert_error(p.request("logging/setLevel", {}), -32602)

    def test_tools_list_order_and_shapes_per_version(self):
        p = self.start()
        p.initialize("2025-11-25")
        tools = p.request("tools/list")["result"]["tools"]
        self.assertEqual([t["name"] for t in tools], TOOLS)
        for t in tools:
            self.assertEqual(t["inputSchema"]["type"], "object")
            self.assertIn("outputSchema", t)
            self.assertTrue(t["title"])
            self.assertTrue(t["description"])
        old = self.start()
        old.initialize("2024-11-05")
        for t in old.request("tools/list")["result"]["tools"]:
            self.assertNotIn("outputSchema", t)
            self.assertNotIn("annotations", t)
            self.assertNotIn("title", t)
        self.assert_error(p.request("tools/list", {"cursor": "x"}), -32602)

    # -- hostile input ----------------------------------------------------
    def test_malformed_input_gets_the_right_errors(self):
        p = self.start()
        p.initialize()
        cases = [
            (b'{"jsonrpc":"2.0","id":1,"method":"ping"', -32700),
            (b'not json at all', -32700),
            (b'{"jsonrpc":"2.0","id":2,"method":"p\xff\xfe"}', -32700),
            (b'{"jsonrpc":"2.0","id":3,"method":"\xed\xa0\x80"}', -32700),
            (b'[{"jsonrpc":"2.0","id":4,"method":"ping"}]', -32600),
            (b'[]', -32600),
            (b'"just a string"', -32600),
            (b'{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}', -32600),
            (b'{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600),
        ]
        def anonymous_errors():
            return [m for m in list(p.messages)
                    if "error" in m and "id" in m and m["id"] is None]

        for raw, code in cases:
            before = len(anonymous_errors())
            p.send_raw(raw + b"\n")
            p.wait_for(lambda _: len(anonymous_errors()) > before,
                       what=f"error for {raw!r}")
            m = anonymous_errors()[before]
            self.assertEqual(m["error"]["code"], code, raw)
        # Errors that can name the request's id do.
        r = self.raw_request(p, {"id": 10, "method": "ping"})
        self.assert_error(r, -32600, 10)
        r = self.raw_request(p, {"jsonrpc": "2.0", "id": "s1", "method": 5})
        self.assert_error(r, -32600, "s1")
        r = self.raw_request(p, {"jsonrpc": "2.0", "id": 11,
                                 "method": "tools/list", "params": [1, 2]})
        self.assert_error(r, -32602, 11)
        self.assert_error(p.request("no/such/method"), -32601)
        # Still serving.
        self.assertEqual(p.request("ping")["result"], {})

    def test_tools_call_params_errors(self):
        p = self.start()
        p.initialize()
        self.assert_error(p.request("tools/call", {"name": "nope"}), -32602)
        self.assert_error(p.request("tools/call", {}), -32602)
        self.assert_error(p.request("tools/call", {"name": "credits",
                                                   "arguments": [1]}), -32602)

    def test_bad_arguments_are_tool_errors_the_model_can_fix(self):
        p = self.start()
        p.initialize()
        r = p.tool_result("credits", {"surprise": 1})
        self.assertTrue(r["isError"])
        self.assertNotIn("structuredContent", r)
        self.assertIn('unknown property "surprise"', text_of(r))
        r = p.tool_result("generate", {"prompt": "x", "wait_seconds": 10**6})
        self.assertTrue(r["isError"])
        self.assertIn("arguments.wait_seconds: must be <=", text_of(r))
        r = p.tool_result("generate", {})
        self.assertTrue(r["isError"])
        self.assertIn('missing required property "prompt"', text_of(r))
        # Missing arguments count as {}.
        rid = p.request_async("tools/call", {"name": "credits"})
        r = p.wait_response(rid)["result"]
        self.assertFalse(r["isError"], r)
        self.assertIn("available", r["structuredContent"])

    def test_notifications_and_client_responses_are_not_answered(self):
        p = self.start()
        p.initialize()
        p.notify("notifications/initialized")
        p.notify("notifications/whatever", {"x": 1})
        p.notify("notifications/cancelled", {"requestId": 12345})
        p.send_raw('{"jsonrpc":"2.0","method":"x","params":[1]}\n')
        p.send_raw('{"jsonrpc":"2.0","id":99,"result":{}}\n')
        p.send_raw('{"jsonrpc":"2.0","id":98,"error":{"code":1,'
                   '"message":"m"}}\n')
        before = len(p.messages)
        self.assertEqual(p.request("ping")["result"], {})
        self.assertEqual(len(p.messages), before + 1)

    def test_crlf_and_empty_lines(self):
        p = self.start()
        p.send_raw(b'\n\r\n   \n{"jsonrpc":"2.0","id":1,"method":"ping"}\r\n')
        p.sent.append({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        self.assertEqual(p.wait_response(1)["result"], {})

    def test_17_mib_line_is_discarded_and_the_stream_stays_in_sync(self):
        p = self.start()
        big = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"' + \
            b"a" * (17 * 1024 * 1024) + b'"}}\n'
        p.send_raw(big)
        p.sent.append({"jsonrpc": "2.0", "id": 2, "method": "ping"})
        p.send_raw(b'{"jsonrpc":"2.0","id":2,"method":"ping"}\n')
        self.assertEqual(p.wait_response(2, timeout=30)["result"], {})
        errs = [m for m in p.messages if "error" in m]
        self.assertEqual(len(errs), 1)
        self.assertIn(errs[0]["error"]["code"], (-32700, -32600))
        self.assertIn("id", errs[0])
        self.assertIsNone(errs[0]["id"])
        self.assertEqual(p.responses_for(1), [])

    # -- stateless era ----------------------------------------------------
    def test_discover(self):
        p = self.start()
        r = p.request("server/discover", meta=self.modern(p))["result"]
        self.assertEqual(r["resultType"], "complete")
        self.assertEqual(r["supportedVersions"],
                         [MODERN] + HANDSHAKE_VERSIONS)
        self.assertEqual(r["capabilities"]["extensions"], {TASKS_EXT: {}})
        self.assertEqual(r["capabilities"]["tools"], {"listChanged": False})
        info = r["_meta"]["io.modelcontextprotocol/serverInfo"]
        self.assertEqual(info["name"], "nemo-mcp")
        self.assertTrue(info["version"])
        self.assertGreater(r["ttlMs"], 0)
        self.assertEqual(r["cacheScope"], "public")
        self.assertIn("job", r["instructions"])

    def test_stateless_results_carry_result_type_and_cache_hints(self):
        p = self.start()
        r = p.request("tools/list", meta=self.modern(p))["result"]
        self.assertEqual(r["resultType"], "complete")
        self.assertEqual([t["name"] for t in r["tools"]], TOOLS)
        self.assertGreater(r["ttlMs"], 0)
        self.assertIn(r["cacheScope"], ("public", "private"))
        r = p.tool_result("credits", {}, era=MODERN)
        self.assertEqual(r["resultType"], "complete")
        self.assertIn("available", r["structuredContent"])
        self.assertEqual(p.request("ping", meta=self.modern(p))["result"][
            "resultType"], "complete")

    def test_unsupported_version_is_32022(self):
        p = self.start()
        for v in ("2099-01-01", "2026-01-01", ""):
            r = p.request("tools/list", meta=self.modern(p, version=v))
            self.assert_error(r, -32022)
            self.assertEqual(r["error"]["data"]["requested"], v)
            self.assertEqual(r["error"]["data"]["supported"],
                             [MODERN] + HANDSHAKE_VERSIONS)
        r = p.request("tools/call", {"name": "credits"},
                      meta=self.modern(p, version="3000-01-01"))
        self.assert_error(r, -32022)

    def test_stateless_meta_errors(self):
        p = self.start()
        meta = self.modern(p)
        del meta["io.modelcontextprotocol/clientCapabilities"]
        self.assert_error(p.request("tools/list", meta=meta), -32602)
        self.assert_error(p.request("tools/list", meta=self.modern(
            p, log_level="chatty")), -32602)
        meta = self.modern(p)
        meta["io.modelcontextprotocol/protocolVersion"] = 20260728
        self.assert_error(p.request("tools/list", meta=meta), -32602)
        # logging/setLevel does not exist in 2026-07-28.
        self.assert_error(p.request("logging/setLevel", {"level": "info"},
                                    meta=self.modern(p)), -32601)

    def test_both_eras_in_one_process(self):
        p = self.start()
        p.initialize("2025-06-18")
        legacy = p.request("tools/list")["result"]
        modern = p.request("tools/list", meta=self.modern(p))["result"]
        self.assertNotIn("resultType", legacy)
        self.assertEqual(modern["resultType"], "complete")
        a = p.call_tool_async("credits", {})
        b = p.call_tool_async("credits", {}, era=MODERN)
        ra, rb = p.wait_response(a)["result"], p.wait_response(b)["result"]
        self.assertNotIn("resultType", ra)
        self.assertEqual(rb["resultType"], "complete")
        self.assertEqual(ra["structuredContent"], rb["structuredContent"])

    def test_log_messages_only_for_requests_that_ask(self):
        p = self.start()
        # No level: no notifications/message, in either era.
        p.tool_result("credits", {}, era=MODERN)
        p.initialize()
        p.tool_result("credits", {})
        self.assertEqual(p.notifications("notifications/message"), [])
        # A modern request with a level gets lines from its own work,
        # before its response, at that level or more severe.
        rid = p.call_tool_async("credits", {}, meta=self.modern(
            p, log_level="debug"))
        resp = p.wait_response(rid)
        logs = p.notifications("notifications/message")
        self.assertTrue(logs, "expected log lines for logLevel=debug")
        self.assertLess(p.messages.index(logs[-1]), p.messages.index(resp))
        self.assertTrue(any("credits" in json.dumps(m) for m in logs))
        n = len(logs)
        p.tool_result("credits", {}, meta=self.modern(p, log_level="error"))
        self.assertEqual(len(p.notifications("notifications/message")), n)
        # Handshake era: logging/setLevel turns them on for the session.
        p.request("logging/setLevel", {"level": "debug"})
        p.tool_result("credits", {})
        self.assertGreater(len(p.notifications("notifications/message")), n)

    # -- concurrency, progress, cancellation ----------------------------
    def test_progress_is_monotonic_with_heartbeats(self):
        self.hang_credits()
        p = self.start(env={"NEMO_HEARTBEAT_MS": "50"})
        p.initialize()
        rid = p.call_tool_async("credits", {}, progress_token="tok-1")
        p.wait_for(lambda m: len([n for n in p.notifications(
            "notifications/progress")]) >= 4, what="4 progress notifications")
        prog = [n["params"] for n in p.notifications("notifications/progress")]
        self.assertTrue(all(x["progressToken"] == "tok-1" for x in prog))
        values = [x["progress"] for x in prog]
        self.assertEqual(values, sorted(set(values)), values)
        self.assertTrue(any(x["message"].startswith("still working (")
                            for x in prog), prog)
        p.notify("notifications/cancelled", {"requestId": rid})
        self.no_response_for(p, rid)

    def test_integer_progress_token_and_no_progress_after_response(self):
        self.rb.fault(CREDITS_PATH, "slow", delay_ms=400)
        p = self.start(env={"NEMO_HEARTBEAT_MS": "50"})
        p.initialize()
        rid = p.call_tool_async("credits", {}, progress_token=42)
        resp = p.wait_response(rid)
        self.assertFalse(resp["result"]["isError"], resp)
        prog = p.notifications("notifications/progress")
        self.assertTrue(prog)
        for n in prog:
            self.assertIs(type(n["params"]["progressToken"]), int)
        at = p.messages.index(resp)
        self.ended(p)
        late = [m for m in p.messages[at + 1:]
                if m.get("method") == "notifications/progress"]
        self.assertEqual(late, [])

    def test_cancel_sends_no_response_and_aborts_the_transfer(self):
        self.hang_credits()
        p = self.start()
        p.initialize()
        rid = p.call_tool_async("credits", {})
        self.rb.wait_for_request(CREDITS_PATH, timeout=10)
        t0 = time.monotonic()
        p.notify("notifications/cancelled", {"requestId": rid,
                                             "reason": "user"})
        # The backend sees the client leave: the HTTP transfer was aborted.
        self.rb.wait_for_request(CREDITS_PATH, done=True, timeout=5)
        self.assertLess(time.monotonic() - t0, 2.0)
        self.no_response_for(p, rid)

    def test_ping_answered_while_four_calls_are_in_flight(self):
        self.hang_credits(count=4)
        p = self.start()
        p.initialize()
        ids = [p.call_tool_async("credits", {}) for _ in range(4)]
        self.rb.wait_for_request(CREDITS_PATH, count=4, timeout=10)
        t0 = time.monotonic()
        self.assertEqual(p.request("ping")["result"], {})
        self.assertLess(time.monotonic() - t0, 1.0)
        tools = p.request("tools/list", meta=self.modern(p))["result"]
        self.assertEqual(len(tools["tools"]), len(TOOLS))
        for rid in ids:
            self.assertEqual(p.responses_for(rid), [])
            p.notify("notifications/cancelled", {"requestId": rid})
        self.no_response_for(p, ids[-1])

    def test_duplicate_in_flight_id_is_rejected(self):
        self.hang_credits()
        p = self.start()
        p.initialize()
        msg = {"jsonrpc": "2.0", "id": "dup", "method": "tools/call",
               "params": {"name": "credits", "arguments": {}}}
        p.send(msg)
        self.rb.wait_for_request(CREDITS_PATH, timeout=10)
        p.send(msg)
        r = p.wait_response("dup")
        self.assert_error(r, -32600)
        p.notify("notifications/cancelled", {"requestId": "dup"})
        self.assertNotIn("error", p.request("ping"))
        self.ended(p)
        self.assertEqual(len(p.responses_for("dup")), 1)

    def test_more_than_32_calls_at_once_is_busy(self):
        self.hang_credits(count=33)
        p = self.start()
        p.initialize()
        ids = [p.call_tool_async("credits", {}) for _ in range(33)]
        busy = p.wait_response(ids[-1])
        self.assert_error(busy, -32603)
        self.assertIn("busy", busy["error"]["message"])
        self.assertEqual(p.request("ping")["result"], {})
        for rid in ids[:-1]:
            p.notify("notifications/cancelled", {"requestId": rid})
        self.no_response_for(p, ids[0])

    # -- shutdown ----------------------------------------------------------
    def _exit_with_call_in_flight(self, how):
        self.hang_credits()
        p = self.start()
        p.initialize()
        p.call_tool_async("credits", {})
        self.rb.wait_for_request(CREDITS_PATH, timeout=10)
        t0 = time.monotonic()
        if how == "eof":
            p.close_stdin()
        else:
            p.proc.send_signal(how)
        self.assertEqual(p.wait_exit(timeout=5), 0)
        self.assertLess(time.monotonic() - t0, 2.0)

    def test_eof_exits_zero_quickly(self):
        self._exit_with_call_in_flight("eof")

    def test_sigterm_exits_zero_quickly(self):
        self._exit_with_call_in_flight(signal.SIGTERM)

    def test_sigint_exits_zero_quickly(self):
        self._exit_with_call_in_flight(signal.SIGINT)

    def test_idle_eof_exits_zero(self):
        p = self.start()
        p.initialize()
        t0 = time.monotonic()
        p.close_stdin()
        self.assertEqual(p.wait_exit(timeout=5), 0)
        self.assertLess(time.monotonic() - t0, 1.0)


class ProtocolErrorsTest(unittest.TestCase):
    """Checks that need no backend at all."""

    def test_host_gone_broken_pipe_exits_quietly(self):
        with tempfile.TemporaryDirectory() as cfg:
            env = dict(os.environ, NEMO_CONFIG_DIR=cfg, NEMO_LOG="warn",
                       NEMO_STATE_DIR=os.path.join(cfg, "state"),
                       NEMO_API_BASE="http://127.0.0.1:9")
            proc = subprocess.Popen([BIN],
                                    stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env)
            proc.stdout.close()   # the host stopped reading
            t0 = time.monotonic()
            try:
                proc.stdin.write(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
                proc.stdin.flush()
            except BrokenPipeError:
                pass
            rc = proc.wait(timeout=5)
            err = proc.stderr.read().decode()
            proc.stderr.close()
            proc.stdin.close()
            self.assertEqual(rc, 0, err)
            self.assertLess(time.monotonic() - t0, 2.0)
            self.assertNotIn("error", err.lower())

    def test_tasks_methods_need_the_extension(self):
        with McpProcess(env={"NEMO_API_BASE": "http://127.0.0.1:9"}) as p:
            self.assertEqual(p.request("tasks/get", {"taskId": "x"})[
                "error"]["code"], -32601)
            r = p.request("tasks/get", {"taskId": "job_x"},
                          meta=p.stateless_meta())
            self.assertEqual(r["error"]["code"], -32021)
            self.assertEqual(r["error"]["data"]["requiredCapabilities"],
                             {"extensions": {TASKS_EXT: {}}})
            ext = {"extensions": {TASKS_EXT: {}}}
            for method in ("tasks/get", "tasks/cancel"):
                r = p.request(method, {"taskId": "job_" + "0" * 32},
                              meta=p.stateless_meta(capabilities=ext))
                self.assertEqual(r["error"]["code"], -32602, r)
            r = p.request("tasks/update", {"taskId": "job_1"},
                          meta=p.stateless_meta(capabilities=ext))
            self.assertEqual(r["error"]["code"], -32602)
            schemacheck.check_transcript(p.sent, p.messages)
            self.assertEqual(p.garbage, [])


if __name__ == "__main__":
    unittest.main()
