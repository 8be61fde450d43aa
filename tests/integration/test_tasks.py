"""The Tasks extension (io.modelcontextprotocol/tasks) over real tools and
the reference backend: a stateless-era client that declares the extension
gets tasks for generate and export and polls them to completion; clients
that do not declare it get ordinary results; tasks/cancel stops a running
turn; a task started by one process is found by the next one (journal).
Every server message is checked against the official schemas."""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "backend"))

from mcpclient import McpProcess, text_of  # noqa: E402
from protocol_case import SchemaCheckedCase  # noqa: E402

TASKS_EXT = "io.modelcontextprotocol/tasks"
WITH_TASKS = {"extensions": {TASKS_EXT: {}}}


class TasksTest(SchemaCheckedCase):
    backend_seed = 11

    def start(self, config_dir=None, state_dir=None):
        p = McpProcess(env={"NEMO_API_BASE": self.rb.url,
                            "NEMO_RENDER_POLL_MS": "20"},
                       config_dir=config_dir, state_dir=state_dir,
                       timeout=30)
        self.procs.append(p)
        return p

    def call(self, p, name, args, caps=WITH_TASKS):
        r = p.request("tools/call", {"name": name, "arguments": args},
                      meta=p.stateless_meta(capabilities=caps))
        self.assertNotIn("error", r, r)
        return r["result"]

    def task(self, p, method, task_id, **extra):
        return p.request(method, dict(extra, taskId=task_id),
                         meta=p.stateless_meta(capabilities=WITH_TASKS))

    def poll(self, p, task_id, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            r = self.task(p, "tasks/get", task_id)["result"]
            self.assertEqual(r["resultType"], "complete")
            self.assertEqual(r["taskId"], task_id)
            if r["status"] != "working":
                return r
            self.assertTrue(r.get("statusMessage"))
            self.assertLess(time.monotonic(), deadline, "task never ended")
            time.sleep(0.05)

    def assert_created(self, r):
        self.assertEqual(r["resultType"], "task", r)
        self.assertIn(r["status"], ("working", "completed"))
        self.assertGreaterEqual(len(r["taskId"]), 32)   # >= 128 bits
        for key in ("createdAt", "lastUpdatedAt"):
            self.assertRegex(r[key], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        self.assertGreater(r["ttlMs"], 0)
        self.assertGreater(r["pollIntervalMs"], 0)
        self.assertNotIn("result", r)

    def test_generate_and_export_become_tasks(self):
        p = self.start()
        r = self.call(p, "generate", {"prompt": "make a short video about "
                                                "the sea"})
        self.assert_created(r)
        done = self.poll(p, r["taskId"])
        self.assertEqual(done["status"], "completed", done)
        res = done["result"]
        self.assertFalse(res["isError"], res)
        self.assertTrue(text_of(res))
        self.assertIsInstance(res["structuredContent"], dict)
        r = self.call(p, "export", {})
        self.assert_created(r)
        done = self.poll(p, r["taskId"])
        self.assertEqual(done["status"], "completed", done)
        self.assertFalse(done["result"]["isError"], done["result"])
        # tasks/update on a task with nothing outstanding is acknowledged
        # and ignored.
        up = self.task(p, "tasks/update", r["taskId"], inputResponses={})
        self.assertEqual(up["result"]["resultType"], "complete")

    def test_no_task_without_the_extension(self):
        p = self.start()
        r = self.call(p, "generate", {"prompt": "a video about trains"},
                      caps={})
        self.assertEqual(r["resultType"], "complete")
        self.assertNotIn("taskId", r)
        p.initialize()
        r = p.tool_result("generate", {"prompt": "now add music"})
        self.assertNotIn("resultType", r)
        self.assertNotIn("taskId", r)
        # Short tools never become tasks, even when the client could take one.
        r = self.call(p, "credits", {})
        self.assertEqual(r["resultType"], "complete")

    def test_tasks_cancel_stops_a_running_turn(self):
        self.rb.next_turn("slow", delay_ms=400)
        p = self.start()
        r = self.call(p, "generate", {"prompt": "a long video about space"})
        self.assert_created(r)
        self.rb.wait_for_request("/run_sse", timeout=10)
        ack = self.task(p, "tasks/cancel", r["taskId"])
        self.assertEqual(ack["result"]["resultType"], "complete")
        done = self.poll(p, r["taskId"], timeout=10)
        self.assertEqual(done["status"], "cancelled", done)

    def test_a_new_process_finds_the_task(self):
        first = self.start()
        r = self.call(first, "generate", {"prompt": "a video about bees"})
        self.assertEqual(self.poll(first, r["taskId"])["status"],
                         "completed")
        first.close_stdin()
        self.assertEqual(first.wait_exit(), 0)
        second = self.start(config_dir=first.config_dir,
                            state_dir=first.state_dir)
        again = self.poll(second, r["taskId"])
        self.assertEqual(again["status"], "completed")
        self.assertFalse(again["result"]["isError"])


if __name__ == "__main__":
    unittest.main()
