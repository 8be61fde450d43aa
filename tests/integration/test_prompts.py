"""Prompts and completion over pipes: the starters and their arguments,
messages that name the tools, argument errors, completion of fixed sets,
of the timeline template's session, and of file and folder paths only
inside the allowed folders (NEMO_UPLOAD_ROOTS / NEMO_DOWNLOAD_ROOTS).
Every server message is checked against the schema of its era."""
import os
import unittest

from mcpclient import McpProcess
from tools_fixture import ToolsCase
import schemacheck


class PromptCase(ToolsCase):
    def stop_server(self, mcp):
        super().stop_server(mcp)
        schemacheck.check_transcript(mcp.sent, mcp.messages)

    def complete(self, ref, name, value, mcp=None, meta=None):
        r = (mcp or self.mcp).request("completion/complete", {
            "ref": ref, "argument": {"name": name, "value": value}},
            meta=meta)
        self.assertNotIn("error", r, r)
        return r["result"]["completion"]

    def prompt_values(self, prompt, arg, value, mcp=None):
        return self.complete({"type": "ref/prompt", "name": prompt}, arg,
                             value, mcp)["values"]


class Prompts(PromptCase):
    def test_list(self):
        prompts = self.mcp.request("prompts/list")["result"]["prompts"]
        names = [p["name"] for p in prompts]
        self.assertGreaterEqual(len(names), 4)
        for want in ("animate_image", "trim_clip", "music_and_captions",
                     "export_to"):
            self.assertIn(want, names)
        for p in prompts:
            self.assertTrue(p["description"] and p["title"])
            self.assertTrue(any(a["required"] for a in p["arguments"]))

    def test_get_names_the_tools_and_fills_arguments(self):
        cases = {
            "animate_image": ({"image": "/pics/cat.png",
                               "motion": "slow zoom in",
                               "aspect_ratio": "9:16"},
                              ["/pics/cat.png", "slow zoom in", "9:16",
                               "`upload`", "`generate`", "`job`",
                               "`state`"]),
            "trim_clip": ({"clip": "/v/a.mp4", "length": "15"},
                          ["/v/a.mp4", "15 seconds", "`upload`",
                           "`generate`"]),
            "music_and_captions": ({"style": "lo-fi",
                                    "caption": "Urban Dreams"},
                                   ["lo-fi", '"Urban Dreams"', "`generate`",
                                    "`state`"]),
            "export_to": ({"folder": "/home/me/Videos"},
                          ["/home/me/Videos", "`export`", "download_to"]),
        }
        for name, (args, want) in cases.items():
            r = self.mcp.request("prompts/get", {"name": name,
                                                 "arguments": args})
            msg, = r["result"]["messages"]
            self.assertEqual(msg["role"], "user")
            text = msg["content"]["text"]
            for w in want:
                self.assertIn(w, text, name)
            self.assertNotIn("{", text.split("\n")[0], name)
        # An optional argument left out leaves no trace.
        r = self.mcp.request("prompts/get", {"name": "export_to",
                                             "arguments": {"folder": "/x"}})
        self.assertNotIn("quality", r["result"]["messages"][0]["content"][
            "text"].lower())

    def test_get_errors(self):
        bad = [{"name": "nope"},
               {"name": "trim_clip", "arguments": {"clip": "/a.mp4"}},
               {"name": "trim_clip", "arguments": {"clip": "/a.mp4",
                                                   "length": "  "}},
               {"name": "trim_clip", "arguments": {"clip": "/a.mp4",
                                                   "length": 5}},
               {"name": "trim_clip", "arguments": {"clip": "/a", "length":
                                                   "5", "other": "x"}}]
        for params in bad:
            r = self.mcp.request("prompts/get", params)
            self.assertEqual(r["error"]["code"], -32602, params)

    def test_stateless(self):
        r = self.mcp.request("prompts/list",
                             meta=self.mcp.stateless_meta())["result"]
        self.assertEqual((r["resultType"], r["cacheScope"]),
                         ("complete", "public"))
        r = self.mcp.request("prompts/get", {"name": "export_to",
                                             "arguments": {"folder": "/x"}},
                             meta=self.mcp.stateless_meta())["result"]
        self.assertEqual(r["resultType"], "complete")


class Completion(PromptCase):
    def test_fixed_sets(self):
        self.assertEqual(self.prompt_values("animate_image", "aspect_ratio",
                                            ""),
                         ["16:9", "9:16", "1:1", "4:5"])
        self.assertEqual(self.prompt_values("animate_image", "aspect_ratio",
                                            "9"), ["9:16"])
        self.assertEqual(self.prompt_values("export_to", "quality", "H"),
                         ["high"])
        self.assertIn("lo-fi", self.prompt_values("music_and_captions",
                                                  "style", "lo"))
        self.assertEqual(self.prompt_values("music_and_captions", "caption",
                                            "x"), [])

    def test_session_of_the_template(self):
        sid = self.session()
        c = self.complete({"type": "ref/resource",
                           "uri": "nemo://sessions/{session}/timeline"},
                          "session", sid[:3])
        self.assertEqual(c["values"], [sid])

    def test_unknown_reference(self):
        for ref, arg in (({"type": "ref/prompt", "name": "nope"}, "x"),
                         ({"type": "ref/prompt", "name": "trim_clip"},
                          "nope"),
                         ({"type": "ref/resource", "uri": "file:///x"},
                          "session")):
            r = self.mcp.request("completion/complete", {
                "ref": ref, "argument": {"name": arg, "value": ""}})
            self.assertEqual(r["error"]["code"], -32602)

    def tree(self):
        """media/{a.mp4, b.png, notes.txt, .hidden.mp4, sub/c.mov},
        outside/d.mp4, out/ (for exports)."""
        media = os.path.join(self.work, "media")
        os.makedirs(os.path.join(media, "sub"))
        os.makedirs(os.path.join(self.work, "outside"))
        os.makedirs(os.path.join(self.work, "out", "clips"))
        for rel in ("a.mp4", "b.png", "notes.txt", ".hidden.mp4",
                    "sub/c.mov"):
            open(os.path.join(media, rel), "wb").close()
        open(os.path.join(self.work, "outside", "d.mp4"), "wb").close()
        return media

    def test_paths_inside_the_roots_only(self):
        media = self.tree()
        out = os.path.join(self.work, "out")
        mcp = self.start_server({"NEMO_UPLOAD_ROOTS": media,
                                 "NEMO_DOWNLOAD_ROOTS": out})
        # Relative: the roots' entries, media files and folders only.
        self.assertEqual(sorted(self.prompt_values("trim_clip", "clip", "",
                                                   mcp)),
                         [media + "/a.mp4", media + "/b.png",
                          media + "/sub/"])
        self.assertEqual(self.prompt_values("trim_clip", "clip", "sub/",
                                            mcp), [media + "/sub/c.mov"])
        # Absolute: descend from / to the root, never beside it.
        self.assertEqual(self.prompt_values("trim_clip", "clip",
                                            self.work + "/", mcp),
                         [self.work + "/media/"])
        self.assertEqual(self.prompt_values(
            "trim_clip", "clip", self.work + "/outside/", mcp), [])
        self.assertEqual(self.prompt_values("trim_clip", "clip",
                                            media + "/a", mcp),
                         [media + "/a.mp4"])
        # Export folders: folders inside the download roots.
        self.assertEqual(self.prompt_values("export_to", "folder", "", mcp),
                         [out + "/clips/"])
        self.assertEqual(self.prompt_values("export_to", "folder",
                                            self.work + "/", mcp),
                         [self.work + "/out/"])

    def test_stateless_completion(self):
        m = McpProcess(env=self.server_env(), config_dir=self.config_dir)
        self.addCleanup(self.stop_server, m)
        c = self.complete({"type": "ref/prompt", "name": "trim_clip"},
                          "length", "1", mcp=m, meta=m.stateless_meta())
        self.assertEqual(c["values"], ["10", "15"])


if __name__ == "__main__":
    unittest.main()
