"""The video agent's questions (needs_input) and asking the person through
the host (elicitation), both eras, over pipes against the reference
backend:

- without elicitation: generate returns needs_input with the questions in
  structuredContent and in the text, never "no changes";
- handshake era, form mode: elicitation/create with an enum per question
  plus a free-text field; accept sends the answer to the agent within the
  same call (the edit is done in one generate call); decline, cancel and
  no answer leave the needs_input result;
- 2026-07-28: an input_required result (never a request to the client);
  the retry with inputResponses + requestState resumes and finishes the
  edit; decline; forged or replayed state; missing answer asks again;
- URL mode: out of credits (2001) and a plan that blocks export (402)
  offer the link; accepting retries once; without URL support the link is
  in the error text.
Every server message is checked against its era's schema."""
import json
import unittest

import schemacheck
from mcpclient import STATELESS, text_of
from tools_fixture import SEED_DRAFT, ToolsCase, output_schema, schema_errors

FORM = {"elicitation": {}}                      # form mode only
BOTH = {"elicitation": {"form": {}, "url": {}}}
URL_ONLY = {"elicitation": {"url": {}}}


def accept_with(content):
    def handler(req):
        if req["method"] != "elicitation/create":
            return {"error": {"code": -32601, "message": "no"}}
        if req["params"].get("mode") == "url":
            return {"action": "accept"}
        return {"action": "accept", "content": content}
    return handler


class ElicitCase(ToolsCase):
    capabilities = None

    def start_server(self, extra_env=None, capabilities=None):
        from mcpclient import McpProcess
        mcp = McpProcess(env=self.server_env(extra_env),
                         config_dir=self.config_dir, timeout=30)
        self.addCleanup(self.check_transcript, mcp)
        self.addCleanup(self.stop_server, mcp)
        mcp.initialize(capabilities=capabilities
                       if capabilities is not None else self.capabilities)
        return mcp

    def check_transcript(self, mcp):
        self.assertEqual(mcp.garbage, [])
        schemacheck.check_transcript(mcp.sent, mcp.messages)

    def structured(self, res, tool="generate"):
        self.assertFalse(res.get("isError"), text_of(res))
        st = res["structuredContent"]
        self.assertEqual(schema_errors(output_schema(tool), st), [])
        return st

    def elicitations(self, mcp=None):
        return [r for r in (mcp or self.mcp).server_requests
                if r["method"] == "elicitation/create"]

    def turns(self):
        return [r for r in self.requests("/run_sse")]

    def completions(self, mcp=None):
        """The elicitationIds of notifications/elicitation/complete."""
        return [n["params"]["elicitationId"] for n in
                (mcp or self.mcp).notifications(
                    "notifications/elicitation/complete")]


class NoElicitation(ElicitCase):
    """A host without elicitation: the question goes to the model."""

    def test_question_is_needs_input_in_both_forms(self):
        self.session()
        res = self.call("generate", {"prompt": "make a video about cats "
                                     "[ask]", "wait_seconds": 30})
        st = self.structured(res)
        self.assertEqual(st["status"], "needs_input")
        self.assertEqual(st["questions"], [{
            "id": "aspect_ratio",
            "prompt": "Which aspect ratio should the video use?",
            "options": ["16:9", "9:16", "1:1"]}])
        text = text_of(res)
        self.assertIn("Which aspect ratio should the video use?", text)
        self.assertIn("16:9 | 9:16 | 1:1", text)
        self.assertIn("send their answer with `generate`", text)
        self.assertNotIn("nothing visible changed", text)
        self.assertEqual(self.elicitations(), [])
        # The model relays the answer: the agent does what was asked.
        st = self.ok("generate", {"prompt": "16:9", "wait_seconds": 30})
        self.assertEqual(st["status"], "completed")
        self.assertTrue(st["timeline_changed"])
        self.assertEqual(self.turns()[-1]["sse"]["answers"],
                         "make a video about cats [ask]")

    def test_job_collects_needs_input(self):
        self.session()
        st = self.ok("generate", {"prompt": "a video [ask]",
                                  "wait_seconds": 0})
        self.assertEqual(st["status"], "running")
        res = self.call("job", {"job": st["job"], "wait_seconds": 30})
        st = self.structured(res, "job")
        self.assertEqual(st["status"], "needs_input")
        self.assertEqual(st["questions"][0]["id"], "aspect_ratio")
        self.assertIn("16:9 | 9:16 | 1:1", text_of(res))

    def test_silent_question_is_never_no_changes(self):
        self.session()
        self.rb.next_turn("ask", text=" ", plain=True)
        res = self.call("generate", {"prompt": "edit it", "wait_seconds": 30})
        st = self.structured(res)
        self.assertEqual(st["status"], "needs_input")
        self.assertEqual(len(st["questions"]), 1)
        self.assertNotIn("nothing visible changed", text_of(res))
        self.assertIn("has a question", st["reply"])

    def test_plain_long_running_wait_is_needs_input(self):
        self.session()
        self.rb.next_turn("ask", plain=True,
                          text="Should the title be bold or thin?")
        st = self.ok("generate", {"prompt": "add a title", "wait_seconds": 30})
        self.assertEqual(st["status"], "needs_input")
        self.assertEqual(st["questions"][0]["prompt"],
                         "Should the title be bold or thin?")


class HandshakeForm(ElicitCase):
    capabilities = FORM

    def test_accept_finishes_the_edit_in_one_call(self):
        self.session()
        self.mcp.on_request = accept_with({"q1": "9:16"})
        res = self.call("generate", {"prompt": "make a video about cats "
                                     "[ask]", "wait_seconds": 30})
        st = self.structured(res)
        self.assertEqual(st["status"], "completed")
        self.assertTrue(st["timeline_changed"])
        self.assertEqual(st["answered"], [{
            "id": "aspect_ratio",
            "prompt": "Which aspect ratio should the video use?",
            "answer": "9:16"}])
        self.assertIn("-> 9:16", text_of(res))
        # The form: the question as an enum plus a free-text field.
        (req,) = self.elicitations()
        p = req["params"]
        self.assertEqual(p["mode"], "form")
        self.assertIn("Which aspect ratio", p["message"])
        props = p["requestedSchema"]["properties"]
        self.assertEqual(props["q1"]["enum"], ["16:9", "9:16", "1:1"])
        self.assertEqual(props["q1"]["title"],
                         "Which aspect ratio should the video use?")
        self.assertEqual(props["q1_other"]["type"], "string")
        # Two turns: the question, then the answer as the next message.
        turns = self.turns()
        self.assertEqual(len(turns), 2)
        self.assertIn("9:16", turns[1]["json"]["new_message"]["parts"][0]
                      ["text"])
        self.assertEqual(turns[1]["sse"]["answers"],
                         "make a video about cats [ask]")

    def test_job_asks_too(self):
        self.session()
        self.mcp.on_request = accept_with({"q1": "16:9"})
        st = self.ok("generate", {"prompt": "a video [ask]",
                                  "wait_seconds": 0})
        self.assertEqual(self.elicitations(), [])
        res = self.call("job", {"job": st["job"], "wait_seconds": 30})
        st = self.structured(res, "job")
        self.assertEqual(st["status"], "completed")
        self.assertEqual(st["answered"][0]["answer"], "16:9")
        self.assertEqual(len(self.turns()), 2)

    def test_free_text_and_several_questions(self):
        self.session()
        self.rb.next_turn("ask", questions=[
            {"id": "style", "prompt": "Which style?",
             "options": ["calm", "upbeat"]},
            {"id": "who", "prompt": "Who is it for?", "options": []}])
        self.mcp.on_request = accept_with({"q1": "upbeat",
                                           "q1_other": "with drums",
                                           "q2_other": "my team"})
        st = self.ok("generate", {"prompt": "add music", "wait_seconds": 30})
        self.assertEqual(st["status"], "completed")
        self.assertEqual([a["answer"] for a in st["answered"]],
                         ["upbeat; with drums", "my team"])
        props = self.elicitations()[0]["params"]["requestedSchema"][
            "properties"]
        self.assertNotIn("q2", props)          # no options: free text only
        self.assertEqual(props["q2_other"]["title"], "Who is it for?")

    def test_decline_cancel_and_empty_keep_needs_input(self):
        self.session()
        for answer in ({"action": "decline"}, {"action": "cancel"},
                       {"action": "accept", "content": {}},
                       {"error": {"code": -32000, "message": "nope"}}):
            with self.subTest(answer=answer):
                self.mcp.on_request = lambda req, a=answer: a
                res = self.call("generate", {"prompt": "a video [ask]",
                                             "wait_seconds": 30})
                st = self.structured(res)
                self.assertEqual(st["status"], "needs_input")
                self.assertNotIn("answered", st)
                self.assertIn("Which aspect ratio", text_of(res))
        self.assertEqual(len(self.elicitations()), 4)

    def test_no_answer_in_time_keeps_needs_input(self):
        self.mcp.close_stdin()
        mcp = self.start_server({"NEMO_ELICIT_TIMEOUT_MS": "300"})
        mcp.on_request = lambda req: None       # never answers
        res = self.call("generate", {"prompt": "a video [ask]",
                                     "wait_seconds": 30}, mcp=mcp)
        self.assertEqual(self.structured(res)["status"], "needs_input")
        (note,) = mcp.notifications("notifications/cancelled")
        self.assertEqual(note["params"]["requestId"],
                         self.elicitations(mcp)[0]["id"])

    def test_cancelling_the_call_ends_the_question(self):
        self.session()
        asked = []
        self.mcp.on_request = lambda req: asked.append(req) and None
        rid = self.mcp.call_tool_async("generate", {"prompt": "a video [ask]",
                                                    "wait_seconds": 30})
        self.mcp.wait_for(lambda m: m.get("method") == "elicitation/create",
                          what="the question")
        self.mcp.notify("notifications/cancelled", {"requestId": rid})
        self.mcp.wait_for(lambda m: m.get("method") ==
                          "notifications/cancelled", what="cancel notice")
        self.assertEqual(self.mcp.responses_for(rid), [])
        # The server is still fine.
        self.assertEqual(self.mcp.request("ping")["result"], {})


    def test_shutdown_while_asking_exits_promptly(self):
        import time
        self.session()
        self.mcp.on_request = lambda req: None
        rid = self.mcp.call_tool_async("generate", {"prompt": "a video [ask]",
                                                    "wait_seconds": 30})
        self.mcp.wait_for(lambda m: m.get("method") == "elicitation/create",
                          what="the question")
        t0 = time.monotonic()
        self.mcp.close_stdin()
        self.assertEqual(self.mcp.wait_exit(5), 0)
        self.assertLess(time.monotonic() - t0, 2.5)
        self.assertEqual(self.mcp.responses_for(rid), [])


class OlderRevisions(ElicitCase):
    def start_version(self, version, caps):
        from mcpclient import McpProcess
        mcp = McpProcess(env=self.server_env(), config_dir=self.config_dir,
                         timeout=30)
        self.addCleanup(self.check_transcript, mcp)
        self.addCleanup(self.stop_server, mcp)
        mcp.initialize(version=version, capabilities=caps)
        return mcp

    def test_2025_06_18_form_has_no_mode(self):
        self.mcp.close_stdin()
        mcp = self.start_version("2025-06-18", BOTH)
        mcp.on_request = accept_with({"q1": "1:1"})
        st = self.call("generate", {"prompt": "a video [ask]",
                                    "wait_seconds": 30}, mcp=mcp)
        self.assertEqual(st["structuredContent"]["status"], "completed")
        (req,) = self.elicitations(mcp)
        self.assertNotIn("mode", req["params"])
        # No URL mode before 2025-11-25: the link stays in the text.
        self.rb.fault("/run_sse", "code", code=2001)
        res = self.call("generate", {"prompt": "add music",
                                     "wait_seconds": 30}, mcp=mcp)
        self.assertTrue(res["isError"])
        self.assertEqual(len(self.elicitations(mcp)), 1)

    def test_2025_03_26_never_asks(self):
        self.mcp.close_stdin()
        mcp = self.start_version("2025-03-26", FORM)
        res = self.call("generate", {"prompt": "a video [ask]",
                                     "wait_seconds": 30}, mcp=mcp)
        # No structured content in 2025-03-26: the text carries it all.
        self.assertIn("needs an answer", text_of(res))
        self.assertIn("16:9 | 9:16 | 1:1", text_of(res))
        self.assertEqual(self.elicitations(mcp), [])


class NoFormSupport(ElicitCase):
    capabilities = URL_ONLY

    def test_url_only_client_gets_no_form(self):
        st = self.ok("generate", {"prompt": "a video [ask]",
                                  "wait_seconds": 30})
        self.assertEqual(st["status"], "needs_input")
        self.assertEqual(self.elicitations(), [])


class Stateless(ElicitCase):
    """2026-07-28: input_required, then the retry with the answer."""

    def meta(self, caps=FORM):
        return self.mcp.stateless_meta(capabilities=dict(caps))

    def call26(self, args, caps=FORM, extra=None):
        params = {"name": "generate", "arguments": args}
        params.update(extra or {})
        r = self.mcp.request("tools/call", params, meta=self.meta(caps))
        self.assertNotIn("error", r, r)
        return r["result"]

    def test_round_trip_finishes_the_edit(self):
        self.session()
        args = {"prompt": "make a video about dogs [ask]", "wait_seconds": 30}
        res = self.call26(args)
        self.assertEqual(res["resultType"], "input_required")
        req = res["inputRequests"]["nemo_ask"]
        self.assertEqual(req["method"], "elicitation/create")
        self.assertEqual(req["params"]["requestedSchema"]["properties"]["q1"]
                         ["enum"], ["16:9", "9:16", "1:1"])
        state = res["requestState"]
        self.assertEqual(self.mcp.server_requests, [])
        res = self.call26(args, extra={
            "inputResponses": {"nemo_ask": {"action": "accept",
                                            "content": {"q1": "1:1"}}},
            "requestState": state})
        self.assertEqual(res["resultType"], "complete")
        st = self.structured(res)
        self.assertEqual(st["status"], "completed")
        self.assertTrue(st["timeline_changed"])
        self.assertEqual(st["answered"][0]["answer"], "1:1")
        turns = self.turns()
        self.assertEqual(len(turns), 2)      # the prompt was not sent again
        self.assertIn("1:1", turns[1]["json"]["new_message"]["parts"][0]
                      ["text"])
        # The state is single use.
        res = self.call26(args, extra={
            "inputResponses": {"nemo_ask": {"action": "accept",
                                            "content": {"q1": "1:1"}}},
            "requestState": state})
        self.assertTrue(res["isError"])
        self.assertIn("no longer pending", text_of(res))
        self.assertEqual(len(self.turns()), 2)

    def test_decline_returns_needs_input(self):
        args = {"prompt": "a video [ask]", "wait_seconds": 30}
        res = self.call26(args)
        res = self.call26(args, extra={
            "inputResponses": {"nemo_ask": {"action": "decline"}},
            "requestState": res["requestState"]})
        st = self.structured(res)
        self.assertEqual(st["status"], "needs_input")
        self.assertIn("Which aspect ratio", text_of(res))
        self.assertEqual(len(self.turns()), 1)

    def test_missing_answer_asks_again_and_forged_state_fails(self):
        args = {"prompt": "a video [ask]", "wait_seconds": 30}
        first = self.call26(args)
        again = self.call26(args, extra={
            "requestState": first["requestState"]})
        self.assertEqual(again["resultType"], "input_required")
        self.assertIn("nemo_ask", again["inputRequests"])
        res = self.call26(args, extra={
            "inputResponses": {"nemo_ask": {"action": "accept",
                                            "content": {"q1": "16:9"}}},
            "requestState": "forged-" + again["requestState"]})
        self.assertTrue(res["isError"])
        self.assertEqual(len(self.turns()), 1)

    def test_job_tool_round_trip(self):
        self.session()
        st = self.ok("generate", {"prompt": "a video [ask]",
                                  "wait_seconds": 0})
        params = {"name": "job", "arguments": {"job": st["job"],
                                               "wait_seconds": 30}}
        r = self.mcp.request("tools/call", params, meta=self.meta())
        res = r["result"]
        self.assertEqual(res["resultType"], "input_required")
        r = self.mcp.request("tools/call", dict(
            params, requestState=res["requestState"],
            inputResponses={"nemo_ask": {"action": "accept",
                                         "content": {"q1_other": "square"}}}),
            meta=self.meta())
        st = self.structured(r["result"], "job")
        self.assertEqual(st["status"], "completed")
        self.assertEqual(st["answered"][0]["answer"], "square")
        self.assertEqual(len(self.turns()), 2)

    def test_without_elicitation_capability_no_input_required(self):
        res = self.call26({"prompt": "a video [ask]", "wait_seconds": 30},
                          caps={})
        self.assertEqual(res["resultType"], "complete")
        self.assertEqual(self.structured(res)["status"], "needs_input")


# The backend's 2001 carries no link (as documented); the registration
# link is built on the web base for the anonymous user_id.
REGISTER = "https://nemovideo.com/register?bind=anon_"


class UrlMode(ElicitCase):
    capabilities = BOTH

    def test_out_of_credits_offers_the_link_and_retries_once(self):
        self.session()
        self.rb.fault("/run_sse", "code", code=2001)
        urls = []

        def handler(req):
            urls.append(req["params"])
            return {"action": "accept"}
        self.mcp.on_request = handler
        st = self.ok("generate", {"prompt": "add music", "wait_seconds": 30})
        self.assertEqual(st["status"], "completed")
        (p,) = urls
        self.assertEqual(p["mode"], "url")
        self.assertTrue(p["url"].startswith(REGISTER), p)
        self.assertTrue(p["elicitationId"])
        self.assertNotIn("http", p["message"])
        self.assertEqual(len(self.turns()), 2)
        # The retry went through, so the step in the browser is done: the
        # client that got the link hears so, with the link's id.
        self.assertEqual(self.completions(), [p["elicitationId"]])

    def test_declined_link_is_in_the_error_text(self):
        self.session()
        self.rb.fault("/run_sse", "code", code=2001, count=2)
        self.mcp.on_request = lambda req: {"action": "decline"}
        text = self.fails("generate", {"prompt": "add music",
                                       "wait_seconds": 30})
        self.assertIn(REGISTER, text)
        self.assertEqual(len(self.elicitations()), 1)
        self.assertEqual(len(self.turns()), 1)
        self.assertEqual(self.completions(), [])

    def test_retry_is_once(self):
        self.session()
        self.rb.fault("/run_sse", "code", code=2001, count=5)
        self.mcp.on_request = lambda req: {"action": "accept"}
        text = self.fails("generate", {"prompt": "add music",
                                       "wait_seconds": 30})
        self.assertIn(REGISTER, text)
        self.assertEqual(len(self.elicitations()), 1)
        self.assertEqual(len(self.turns()), 2)
        # Still out of credits after the retry: nothing was completed.
        self.assertEqual(self.completions(), [])

    def test_only_https_links_are_offered(self):
        self.session()
        self.rb.fault("/run_sse", "code", code=2001,
                      data={"register_url": "javascript:alert(1)"})
        self.mcp.on_request = lambda req: {"action": "accept"}
        self.fails("generate", {"prompt": "add music", "wait_seconds": 30})
        self.assertEqual(self.elicitations(), [])
        self.assertEqual(len(self.turns()), 1)

    def test_plan_blocked_export_offers_the_page(self):
        self.rb.set_state(self.session(), draft=SEED_DRAFT)
        page = "https://www.nemovideo.ai/pricing?bind=anon_1"
        body = json.dumps({"code": 402, "msg": "export is blocked on the "
                           "free plan", "data": {"upgrade_url": page}})
        self.rb.fault("/api/render/proxy/lambda", "status", status=402,
                      body=body, content_type="application/json",
                      method="POST")
        self.mcp.on_request = lambda req: {"action": "accept"}
        st = self.ok("export", {"wait_seconds": 30})
        self.assertEqual(st["status"], "completed")
        (req,) = self.elicitations()
        self.assertEqual(req["params"]["url"], page)
        self.assertIn("export", req["params"]["message"])
        self.assertEqual(self.completions(),
                         [req["params"]["elicitationId"]])


class UrlFallback(ElicitCase):
    capabilities = FORM         # no URL mode

    def test_no_url_support_link_in_text(self):
        self.session()
        self.rb.fault("/run_sse", "code", code=2001)
        text = self.fails("generate", {"prompt": "add music",
                                       "wait_seconds": 30})
        self.assertIn(REGISTER, text)
        self.assertEqual(self.elicitations(), [])


class UrlStateless(ElicitCase):
    def test_input_required_link_then_retry(self):
        self.session()
        self.rb.fault("/run_sse", "code", code=2001)
        meta = self.mcp.stateless_meta(capabilities=dict(URL_ONLY))
        params = {"name": "generate",
                  "arguments": {"prompt": "add music", "wait_seconds": 30}}
        res = self.mcp.request("tools/call", params, meta=meta)["result"]
        self.assertEqual(res["resultType"], "input_required")
        p = res["inputRequests"]["nemo_ask"]["params"]
        self.assertEqual(p["mode"], "url")
        self.assertTrue(p["url"].startswith(REGISTER))
        self.assertNotIn("elicitationId", p)
        res = self.mcp.request("tools/call", dict(
            params, requestState=res["requestState"],
            inputResponses={"nemo_ask": {"action": "accept"}}),
            meta=meta)["result"]
        self.assertEqual(self.structured(res)["status"], "completed")
        self.assertEqual(len(self.turns()), 2)
        # No elicitationId in this revision, so no completion notice.
        self.assertEqual(self.completions(), [])

    def test_declined_link_returns_the_error(self):
        self.rb.fault("/run_sse", "code", code=2001)
        meta = self.mcp.stateless_meta(capabilities=dict(BOTH))
        params = {"name": "generate",
                  "arguments": {"prompt": "add music", "wait_seconds": 30}}
        res = self.mcp.request("tools/call", params, meta=meta)["result"]
        res = self.mcp.request("tools/call", dict(
            params, requestState=res["requestState"],
            inputResponses={"nemo_ask": {"action": "cancel"}}),
            meta=meta)["result"]
        self.assertTrue(res["isError"])
        self.assertIn(REGISTER, text_of(res))
        self.assertEqual(len(self.turns()), 1)


if __name__ == "__main__":
    unittest.main()
