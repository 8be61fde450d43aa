"""Resources over pipes: the timeline template and the current session's
timeline, saved videos (file:// URIs, video/mp4, size), reading both,
subscriptions in both eras (resources/subscribe; subscriptions/listen with
its acknowledgement, tagged notices, cancel and graceful close), the
resource_link a completed export adds, and the capabilities and icons
each revision gets. Every server message is checked against the schema of
its era."""
import base64
import json
import os
import unittest
import urllib.parse

from mcpclient import HANDSHAKE, STATELESS, McpProcess, text_of
from tools_fixture import SAMPLE_MP4, SEED_DRAFT, ToolsCase
import schemacheck

SUB_KEY = "io.modelcontextprotocol/subscriptionId"


def timeline_uri(sid):
    return "nemo://sessions/" + urllib.parse.quote(sid, safe="") + \
        "/timeline"


class ResourcesCase(ToolsCase):
    def stop_server(self, mcp):
        msgs, sent = list(mcp.messages), list(mcp.sent)
        super().stop_server(mcp)
        # Every message the server wrote, valid in its era (messages
        # written during shutdown included).
        schemacheck.check_transcript(sent, list(mcp.messages) or msgs)

    def modern(self, method, params=None, mcp=None):
        m = mcp or self.mcp
        return m.request(method, params, meta=m.stateless_meta())

    def updated(self, uri, mcp=None):
        return [n for n in (mcp or self.mcp).notifications(
            "notifications/resources/updated") if n["params"]["uri"] == uri]


class Listing(ResourcesCase):
    def test_template_and_current_timeline(self):
        r = self.mcp.request("resources/templates/list")["result"]
        t, = r["resourceTemplates"]
        self.assertEqual(t["uriTemplate"], "nemo://sessions/{session}/timeline")
        self.assertEqual(t["mimeType"], "application/json")
        # No session yet: nothing is created just to list.
        self.assertEqual(self.mcp.request("resources/list")["result"],
                         {"resources": []})
        self.assertEqual(self.requests("/api/tasks/me/with-session/nemo_agent"),
                         [])
        sid = self.session()
        res = self.mcp.request("resources/list")["result"]["resources"]
        self.assertEqual([r["uri"] for r in res], [timeline_uri(sid)])
        self.assertEqual(res[0]["mimeType"], "application/json")

    def test_read_timeline_is_the_state_tools_structure(self):
        sid = self.session()
        self.rb.set_state(sid, draft=SEED_DRAFT)
        st = self.ok("state")
        r = self.mcp.request("resources/read", {"uri": timeline_uri(sid)})
        contents = r["result"]["contents"]
        self.assertEqual([c["mimeType"] for c in contents],
                         ["application/json", "text/plain"])
        self.assertEqual(json.loads(contents[0]["text"]), st)
        self.assertIn('Title: "Urban Dreams"', contents[1]["text"])
        self.assertEqual(contents[1]["text"].splitlines()[0], st["summary"])

    def test_read_errors(self):
        sid = self.session()
        for uri in (timeline_uri("no-such-session"), "nemo://other",
                    "file:///etc/passwd", "https://example.com/x.mp4",
                    "file:///" + SAMPLE_MP4.lstrip("/")):
            r = self.mcp.request("resources/read", {"uri": uri})
            self.assertEqual(r["error"]["code"], -32002, (uri, r))
            self.assertIn("Resource not found", r["error"]["message"])
        # Reading a lost session never replaces the current one.
        self.assertEqual(self.session(), sid)
        r = self.mcp.request("resources/read", {})
        self.assertEqual(r["error"]["code"], -32602)

    def test_cursor_refused(self):
        r = self.mcp.request("resources/list", {"cursor": "x"})
        self.assertEqual(r["error"]["code"], -32602)


class Subscribe(ResourcesCase):
    def test_upload_and_turn_notify_subscribers(self):
        sid = self.session()
        uri = timeline_uri(sid)
        self.assertEqual(self.mcp.request("resources/subscribe",
                                          {"uri": uri})["result"], {})
        self.ok("upload", {"files": [SAMPLE_MP4]})
        # The notice goes out before the tool's answer.
        self.assertEqual(len(self.updated(uri)), 1)
        self.ok("generate", {"prompt": "add lo-fi music",
                             "wait_seconds": 30})
        self.assertEqual(len(self.updated(uri)), 2)
        self.assertEqual(self.mcp.request("resources/unsubscribe",
                                          {"uri": uri})["result"], {})
        self.ok("upload", {"files": [SAMPLE_MP4]})
        self.assertEqual(len(self.updated(uri)), 2)

    def test_other_session_not_notified(self):
        sid = self.session()
        other = timeline_uri(sid + "x")
        self.mcp.request("resources/subscribe", {"uri": other})
        self.ok("upload", {"files": [SAMPLE_MP4]})
        self.assertEqual(self.mcp.notifications(
            "notifications/resources/updated"), [])

    def test_only_timelines(self):
        r = self.mcp.request("resources/subscribe",
                             {"uri": "file:///tmp/x.mp4"})
        self.assertEqual(r["error"]["code"], -32002)
        r = self.modern("resources/subscribe", {"uri": timeline_uri("s")})
        self.assertEqual(r["error"]["code"], -32601)

    def test_new_session_changes_the_list(self):
        self.session()
        self.ok("session", {"action": "new"})
        self.assertEqual(len(self.mcp.notifications(
            "notifications/resources/list_changed")), 1)


class Listen(ResourcesCase):
    def stateless_server(self):
        """A server no client initialized: only stateless requests."""
        m = McpProcess(env=self.server_env(), config_dir=self.config_dir)
        self.addCleanup(self.stop_server, m)
        return m

    def listen(self, notifications, rid="listen:1", mcp=None):
        m = mcp or self.mcp
        m.request_async("subscriptions/listen",
                        {"notifications": notifications},
                        meta=m.stateless_meta(), rid=rid)
        return m.wait_for(
            lambda n: n.get("method") ==
            "notifications/subscriptions/acknowledged" and
            n["params"]["_meta"][SUB_KEY] == rid, what="acknowledgement")

    def test_stream_acknowledges_tags_and_cancels(self):
        mcp = self.stateless_server()
        sid = self.session(mcp)
        uri = timeline_uri(sid)
        ack = self.listen({"resourceSubscriptions": [uri, "nemo://bogus"],
                           "resourcesListChanged": True,
                           "toolsListChanged": True}, mcp=mcp)
        self.assertEqual(ack["params"]["notifications"],
                         {"resourcesListChanged": True,
                          "resourceSubscriptions": [uri]})
        mcp.call_tool("upload", {"files": [SAMPLE_MP4]}, era=STATELESS)
        note, = self.updated(uri, mcp)
        self.assertEqual(note["params"]["_meta"][SUB_KEY], "listen:1")
        mcp.notify("notifications/cancelled", {"requestId": "listen:1"})
        mcp.call_tool("upload", {"files": [SAMPLE_MP4]}, era=STATELESS)
        self.assertEqual(len(self.updated(uri, mcp)), 1)
        self.assertEqual(mcp.responses_for("listen:1"), [])

    def test_duplicate_id_refused(self):
        self.listen({}, rid="dup")
        r = self.mcp.wait_response(self.mcp.request_async(
            "subscriptions/listen", {"notifications": {}},
            meta=self.mcp.stateless_meta(), rid="dup"))
        self.assertEqual(r["error"]["code"], -32600)

    def test_handshake_era_has_no_listen(self):
        r = self.mcp.request("subscriptions/listen", {"notifications": {}})
        self.assertEqual(r["error"]["code"], -32601)

    def test_shutdown_closes_the_stream_gracefully(self):
        self.listen({"resourcesListChanged": True}, rid=7)
        self.mcp.close_stdin()
        self.mcp.wait_exit(10)
        r = self.mcp.wait_response(7)
        self.assertEqual(r["result"]["resultType"], "complete")
        self.assertEqual(r["result"]["_meta"][SUB_KEY], 7)


class SavedVideos(ResourcesCase):
    def export(self, era=None):
        sid = self.session()
        self.rb.set_state(sid, draft=SEED_DRAFT)
        r = self.call("export", {"download_to": self.work,
                                 "wait_seconds": 30}, era=era)
        self.assertFalse(r.get("isError"), text_of(r))
        return r

    def test_export_links_lists_and_serves_the_video(self):
        r = self.export()
        path = r["structuredContent"]["path"]
        link, = [c for c in r["content"] if c["type"] == "resource_link"]
        self.assertEqual(link["uri"], "file://" + urllib.parse.quote(path))
        self.assertEqual(link["mimeType"], "video/mp4")
        self.assertEqual(link["size"], os.path.getsize(path))
        self.assertEqual(len(self.mcp.notifications(
            "notifications/resources/list_changed")), 1)
        res = self.mcp.request("resources/list")["result"]["resources"]
        video, = [x for x in res if x["uri"].startswith("file://")]
        self.assertEqual((video["uri"], video["mimeType"], video["size"]),
                         (link["uri"], "video/mp4", os.path.getsize(path)))
        c, = self.mcp.request("resources/read",
                              {"uri": link["uri"]})["result"]["contents"]
        with open(path, "rb") as fh:
            self.assertEqual(base64.b64decode(c["blob"]), fh.read())
        # Gone from disk: no longer listed nor served.
        os.unlink(path)
        res = self.mcp.request("resources/list")["result"]["resources"]
        self.assertFalse([x for x in res if x["uri"].startswith("file")])
        r = self.mcp.request("resources/read", {"uri": link["uri"]})
        self.assertEqual(r["error"]["code"], -32002)

    def test_stateless_export_links_too(self):
        r = self.export(era=STATELESS)
        self.assertTrue([c for c in r["content"]
                         if c["type"] == "resource_link"])


class Advertised(ResourcesCase):
    def init(self, version):
        m = McpProcess(env=self.server_env(), config_dir=self.config_dir)
        self.addCleanup(self.stop_server, m)
        return m, m.initialize(version)["result"]

    def test_capabilities_and_icons_by_revision(self):
        _, r = self.init(HANDSHAKE)
        caps = r["capabilities"]
        self.assertEqual(caps["resources"], {"subscribe": True,
                                             "listChanged": True})
        self.assertIn("prompts", caps)
        self.assertIn("completions", caps)
        self.assertTrue(r["serverInfo"]["icons"][0]["src"].startswith(
            "data:image/svg+xml;base64,"))
        svg = base64.b64decode(r["serverInfo"]["icons"][0]["src"].split(
            ",", 1)[1])
        self.assertTrue(svg.startswith(b"<svg"))
        tools = self.mcp.request("tools/list")["result"]["tools"]
        self.assertTrue(all(t["icons"][0]["mimeType"] == "image/svg+xml"
                            for t in tools))
        m, r = self.init("2025-06-18")
        self.assertNotIn("icons", r["serverInfo"])
        self.assertFalse([t for t in m.request("tools/list")["result"][
            "tools"] if "icons" in t])
        _, r = self.init("2024-11-05")
        self.assertNotIn("completions", r["capabilities"])
        self.assertIn("resources", r["capabilities"])

    def test_discover(self):
        r = self.mcp.request("server/discover", {},
                             meta=self.mcp.stateless_meta())["result"]
        caps = r["capabilities"]
        self.assertEqual(caps["resources"], {"subscribe": True,
                                             "listChanged": True})
        self.assertIn("completions", caps)
        info = r["_meta"]["io.modelcontextprotocol/serverInfo"]
        self.assertTrue(info["icons"])
        r = self.modern("resources/list")["result"]
        self.assertEqual((r["resultType"], r["cacheScope"], r["ttlMs"]),
                         ("complete", "private", 0))
        sid = self.session()
        r = self.modern("resources/read", {"uri": timeline_uri(sid)})
        r = r["result"]
        self.assertEqual((r["resultType"], r["cacheScope"], r["ttlMs"]),
                         ("complete", "private", 0))
        self.assertEqual(json.loads(r["contents"][0]["text"])["session"], sid)
        r = self.modern("resources/templates/list")["result"]
        self.assertEqual(r["cacheScope"], "public")


if __name__ == "__main__":
    unittest.main()
