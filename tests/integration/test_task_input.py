"""The video agent's question inside a Tasks-extension task: a generate
task whose turn ends with the agent's questions moves to input_required
with the elicitation form as an input request (tasks/get), the client
answers with tasks/update, the answer goes to the agent as the next turn
and the task goes on to completed with the edit and what was `answered`.
Decline, cancel, no answer in time (NEMO_ELICIT_TIMEOUT_MS), a client
without form elicitation, tasks/cancel while input_required, and a
restart while input_required each end in a clear final state. Every
server message is checked against the official schemas (protocol_case)."""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from mcpclient import McpProcess, text_of  # noqa: E402
from protocol_case import SchemaCheckedCase  # noqa: E402
from tools_fixture import output_schema, schema_errors  # noqa: E402

TASKS_EXT = "io.modelcontextprotocol/tasks"
ASKING = {"extensions": {TASKS_EXT: {}}, "elicitation": {}}
NO_FORM = {"extensions": {TASKS_EXT: {}}}
KEY = "nemo_ask_1"


class TaskInputTest(SchemaCheckedCase):
    backend_seed = 13

    def start(self, env=None, config_dir=None, state_dir=None):
        e = {"NEMO_API_BASE": self.rb.url, "NEMO_RENDER_POLL_MS": "20"}
        e.update(env or {})
        p = McpProcess(env=e, config_dir=config_dir, state_dir=state_dir,
                       timeout=30)
        self.procs.append(p)
        return p

    def meta(self, p, caps=ASKING):
        return p.stateless_meta(capabilities=dict(caps))

    def generate(self, p, prompt, caps=ASKING):
        r = p.request("tools/call", {"name": "generate",
                                     "arguments": {"prompt": prompt}},
                      meta=self.meta(p, caps))
        self.assertNotIn("error", r, r)
        self.assertEqual(r["result"]["resultType"], "task", r)
        return r["result"]["taskId"]

    def task(self, p, method, task_id, **extra):
        return p.request(method, dict(extra, taskId=task_id),
                         meta=self.meta(p))

    def poll(self, p, task_id, until=("completed", "cancelled", "failed"),
             timeout=30):
        """tasks/get until the status is one of until (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.task(p, "tasks/get", task_id)["result"]
            self.assertEqual(r["taskId"], task_id)
            if r["status"] in until:
                return r
            self.assertIn(r["status"], ("working", "input_required"), r)
            self.assertLess(time.monotonic(), deadline,
                            "task never reached %s: %s" % (until, r))
            time.sleep(0.05)

    def answer(self, p, task_id, responses):
        r = self.task(p, "tasks/update", task_id, inputResponses=responses)
        self.assertNotIn("error", r, r)
        self.assertEqual(r["result"]["resultType"], "complete")

    def structured(self, res):
        self.assertFalse(res.get("isError"), text_of(res))
        st = res["structuredContent"]
        self.assertEqual(schema_errors(output_schema("generate"), st), [])
        return st

    def turns(self):
        return self.rb.requests("/run_sse")

    def asked(self, p, task_id):
        r = self.poll(p, task_id, until=("input_required", "completed"))
        self.assertEqual(r["status"], "input_required", r)
        self.assertIn("answer", r["statusMessage"])
        return r

    def test_answer_finishes_the_edit_in_the_task(self):
        p = self.start()
        tid = self.generate(p, "make a video about cats [ask]")
        r = self.asked(p, tid)
        self.assertEqual(list(r["inputRequests"]), [KEY])
        req = r["inputRequests"][KEY]
        self.assertEqual(req["method"], "elicitation/create")
        self.assertEqual(req["params"]["mode"], "form")
        props = req["params"]["requestedSchema"]["properties"]
        self.assertEqual(props["q1"]["enum"], ["16:9", "9:16", "1:1"])
        self.assertEqual(props["q1"]["title"],
                         "Which aspect ratio should the video use?")
        self.assertEqual(props["q1_other"]["type"], "string")
        self.assertEqual(len(self.turns()), 1)
        # Polling again shows the same request under the same key.
        again = self.task(p, "tasks/get", tid)["result"]
        self.assertEqual(again["inputRequests"], r["inputRequests"])
        # A response for a key that is not outstanding is ignored.
        self.answer(p, tid, {"other": {"action": "accept",
                                       "content": {"q1": "1:1"}}})
        self.assertEqual(self.task(p, "tasks/get", tid)["result"]["status"],
                         "input_required")
        # A response that is no ElicitResult is refused; the question stays.
        bad = self.task(p, "tasks/update", tid,
                        inputResponses={KEY: {"content": {"q1": "1:1"}}})
        self.assertEqual(bad["error"]["code"], -32602, bad)
        self.assertIn("ElicitResult", bad["error"]["message"])
        self.assertEqual(self.task(p, "tasks/get", tid)["result"]["status"],
                         "input_required")
        self.answer(p, tid, {KEY: {"action": "accept",
                                   "content": {"q1": "9:16"}}})
        # Answered: the task works on (the answered request is gone).
        now = self.task(p, "tasks/get", tid)["result"]
        self.assertIn(now["status"], ("working", "completed"), now)
        self.assertNotIn("inputRequests", now)
        done = self.poll(p, tid)
        self.assertEqual(done["status"], "completed", done)
        st = self.structured(done["result"])
        self.assertEqual(st["status"], "completed")
        self.assertTrue(st["timeline_changed"])
        self.assertEqual(st["answered"], [{
            "id": "aspect_ratio",
            "prompt": "Which aspect ratio should the video use?",
            "answer": "9:16"}])
        self.assertEqual(st["job"], tid)
        text = text_of(done["result"])
        self.assertIn("answered the video agent's question", text)
        self.assertIn("9:16", text)
        turns = self.turns()
        self.assertEqual(len(turns), 2)     # the prompt was not sent again
        self.assertIn("9:16", turns[1]["json"]["new_message"]["parts"][0]
                      ["text"])
        self.assertEqual(turns[1]["sse"]["answers"],
                         "make a video about cats [ask]")
        # The answered key is no longer outstanding: ignored.
        self.answer(p, tid, {KEY: {"action": "accept",
                                   "content": {"q1": "1:1"}}})
        self.assertEqual(len(self.turns()), 2)

    def test_a_second_question_gets_a_new_key(self):
        p = self.start()
        tid = self.generate(p, "make a video about cats [ask]")
        self.asked(p, tid)
        # The turn that carries the answer asks again.
        self.rb.next_turn("ask", plain=True,
                          text="Should the title be bold or thin?")
        self.answer(p, tid, {KEY: {"action": "accept",
                                   "content": {"q1": "16:9"}}})
        deadline = time.monotonic() + 30
        while True:
            r = self.asked(p, tid)
            if "nemo_ask_2" in r["inputRequests"]:
                break
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assertEqual(list(r["inputRequests"]), ["nemo_ask_2"])
        props = r["inputRequests"]["nemo_ask_2"]["params"][
            "requestedSchema"]["properties"]
        self.assertEqual(props["q1_other"]["title"],
                         "Should the title be bold or thin?")
        # An answer under the first key is stale: ignored.
        self.answer(p, tid, {KEY: {"action": "accept",
                                   "content": {"q1": "1:1"}}})
        self.assertEqual(self.task(p, "tasks/get", tid)["result"]["status"],
                         "input_required")
        self.answer(p, tid, {"nemo_ask_2": {"action": "accept",
                                            "content": {"q1_other": "bold"}}})
        st = self.structured(self.poll(p, tid)["result"])
        self.assertEqual(st["status"], "completed")
        self.assertEqual([a["answer"] for a in st["answered"]],
                         ["16:9", "bold"])
        self.assertEqual(len(self.turns()), 3)

    def test_free_text_answer(self):
        p = self.start()
        tid = self.generate(p, "a video about the sea [ask]")
        self.asked(p, tid)
        self.answer(p, tid, {KEY: {"action": "accept",
                                   "content": {"q1_other": "square please"}}})
        st = self.structured(self.poll(p, tid)["result"])
        self.assertEqual(st["answered"][0]["answer"], "square please")

    def test_decline_and_cancel_complete_with_needs_input(self):
        for action in ("decline", "cancel"):
            with self.subTest(action=action):
                self.rb.reset()
                p = self.start()
                tid = self.generate(p, "a video [ask]")
                self.asked(p, tid)
                self.answer(p, tid, {KEY: {"action": action}})
                done = self.poll(p, tid)
                self.assertEqual(done["status"], "completed", done)
                st = self.structured(done["result"])
                self.assertEqual(st["status"], "needs_input")
                self.assertNotIn("answered", st)
                self.assertEqual(st["questions"][0]["id"], "aspect_ratio")
                self.assertIn("send their answer with `generate`",
                              text_of(done["result"]))
                self.assertEqual(len(self.turns()), 1)

    def test_no_answer_in_time_completes_with_needs_input(self):
        p = self.start(env={"NEMO_ELICIT_TIMEOUT_MS": "300"})
        tid = self.generate(p, "a video [ask]")
        self.asked(p, tid)
        done = self.poll(p, tid)
        self.assertEqual(done["status"], "completed", done)
        self.assertEqual(self.structured(done["result"])["status"],
                         "needs_input")
        # A late answer is ignored.
        self.answer(p, tid, {KEY: {"action": "accept",
                                   "content": {"q1": "1:1"}}})
        self.assertEqual(len(self.turns()), 1)

    def test_tasks_cancel_while_input_required(self):
        p = self.start()
        tid = self.generate(p, "a video [ask]")
        self.asked(p, tid)
        ack = self.task(p, "tasks/cancel", tid)
        self.assertEqual(ack["result"]["resultType"], "complete")
        done = self.poll(p, tid, timeout=10)
        self.assertEqual(done["status"], "cancelled", done)
        self.assertNotIn("inputRequests", done)
        self.assertEqual(len(self.turns()), 1)

    def test_without_form_elicitation_no_input_required(self):
        p = self.start()
        tid = self.generate(p, "a video [ask]", caps=NO_FORM)
        done = self.poll(p, tid, until=("completed", "input_required"))
        self.assertEqual(done["status"], "completed", done)
        self.assertEqual(self.structured(done["result"])["status"],
                         "needs_input")

    def test_restart_while_input_required_completes_clearly(self):
        first = self.start()
        tid = self.generate(first, "a video about bees [ask]")
        self.asked(first, tid)
        first.close_stdin()
        self.assertEqual(first.wait_exit(), 0)
        second = self.start(config_dir=first.config_dir,
                            state_dir=first.state_dir)
        done = self.poll(second, tid)
        self.assertEqual(done["status"], "completed", done)
        self.assertIn("interrupted", done["statusMessage"])
        st = self.structured(done["result"])
        self.assertEqual(st["status"], "needs_input")
        self.assertEqual(st["questions"][0]["id"], "aspect_ratio")
        text = text_of(done["result"])
        self.assertIn("restarted while waiting for the user's answer", text)
        self.assertIn("Which aspect ratio", text)
        # Nothing is outstanding any more: an answer is ignored.
        r = second.request("tasks/update", {"taskId": tid, "inputResponses": {
            KEY: {"action": "accept", "content": {"q1": "1:1"}}}},
            meta=self.meta(second))
        self.assertNotIn("error", r, r)
        self.assertEqual(len(self.turns()), 1)


if __name__ == "__main__":
    unittest.main()
