"""The tool descriptions in schemas/*.json: strict inputs, exact outputs,
the annotations issue 4 asks for, and tools/list serving them in order."""
import json
import os
import unittest

from tools_fixture import ToolsCase

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ORDER = ["credits", "session", "upload", "generate", "job", "state",
         "export"]
STATUSES = {"completed", "running", "failed", "cancelled", "interrupted"}


def load(name):
    with open(os.path.join(ROOT, "schemas", name + ".json")) as fh:
        return json.load(fh)


class SchemaFiles(unittest.TestCase):
    def test_one_file_per_tool_with_every_part(self):
        for name in ORDER:
            with self.subTest(tool=name):
                t = load(name)
                self.assertEqual(t["name"], name)
                for key in ("title", "description", "inputSchema",
                            "outputSchema", "annotations"):
                    self.assertIn(key, t)
                self.assertGreater(len(t["description"]), 150)
                self.assertEqual(t["inputSchema"]["type"], "object")
                self.assertEqual(t["outputSchema"]["type"], "object")

    def test_inputs_are_strict(self):
        for name in ORDER:
            with self.subTest(tool=name):
                schema = load(name)["inputSchema"]
                self.assertIs(schema["additionalProperties"], False)
                for prop in schema["properties"].values():
                    self.assertIn("description", prop)
                    self.assertIn("type", prop)

    def test_wait_seconds_bounds(self):
        for name in ("generate", "job", "export"):
            with self.subTest(tool=name):
                ws = load(name)["inputSchema"]["properties"]["wait_seconds"]
                self.assertEqual((ws["type"], ws["minimum"], ws["maximum"],
                                  ws["default"]), ("integer", 0, 900, 45))

    def test_contract_arguments(self):
        args = {
            "credits": set(), "session": {"action", "language"},
            "upload": {"files", "urls", "session"},
            "generate": {"prompt", "session", "wait_seconds", "request_id"},
            "job": {"job", "wait_seconds", "cancel"},
            "state": {"session"},
            "export": {"session", "quality", "format", "download_to",
                       "overwrite", "wait_seconds"},
        }
        for name, want in args.items():
            with self.subTest(tool=name):
                self.assertEqual(set(load(name)["inputSchema"]["properties"]),
                                 want)
        self.assertEqual(load("session")["inputSchema"]["properties"]
                         ["action"]["enum"], ["current", "new"])
        self.assertEqual(load("generate")["inputSchema"]["required"],
                         ["prompt"])

    def test_status_enums(self):
        for name in ("generate", "job", "export"):
            with self.subTest(tool=name):
                st = load(name)["outputSchema"]["properties"]["status"]
                self.assertTrue(STATUSES <= set(st["enum"]))
        routes = load("generate")["outputSchema"]["properties"]["route"]
        self.assertEqual(set(routes["enum"]),
                         {"agent", "export", "credits", "state", "upload"})

    def test_annotations(self):
        for name in ORDER:
            with self.subTest(tool=name):
                a = load(name)["annotations"]
                self.assertIs(a["openWorldHint"], True)
                # job can cancel work: not read-only.
                self.assertIs(a["readOnlyHint"], name in ("credits", "state"))
                self.assertIs(a["idempotentHint"],
                              name in ("credits", "state", "job"))
                # generate edits the timeline; export can replace a file
                # (overwrite: true).
                self.assertIs(a["destructiveHint"],
                              name in ("generate", "export"))

    def test_descriptions_teach_wait_then_poll(self):
        for name in ("generate", "export"):
            d = load(name)["description"]
            self.assertIn("wait_seconds", d)
            self.assertIn('"running"', d)
            self.assertIn("`job`", d)
        self.assertIn("request_id", load("generate")["description"])


class ToolsList(ToolsCase):
    def test_tools_list_serves_the_files_in_order(self):
        r = self.mcp.request("tools/list")
        tools = r["result"]["tools"]
        self.assertEqual([t["name"] for t in tools], ORDER)
        for t in tools:
            want = load(t["name"])
            for key in ("description", "inputSchema", "outputSchema",
                        "annotations"):
                self.assertEqual(t[key], want[key], t["name"] + " " + key)

    def test_arguments_are_validated(self):
        res = self.mcp.call_tool("generate", {"prompt": "x",
                                              "wait_seconds": 901})
        bad = res.get("error") or res["result"]
        self.assertTrue("error" in res or bad.get("isError"))
        res = self.mcp.call_tool("credits", {"surprise": 1})
        self.assertTrue("error" in res or res["result"].get("isError"))
        self.assertEqual(self.requests("/run_sse"), [])


if __name__ == "__main__":
    unittest.main()
