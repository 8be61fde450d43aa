"""Issue 11, findings 1, 2, 3, 10 and 11: a hostile backend
(tests/backend/hostile.py) and a local user racing files. Each test is one
attack that got through before; each must now fail cleanly, leave nothing
behind and touch nothing of the user's."""
import json
import os
import signal
import sys
import unittest

from tools_fixture import SAMPLE_MP4, SEED_DRAFT, TESTS, ToolsCase

sys.path.insert(0, os.path.join(TESTS, "backend"))
from hostile import HostileBackend  # noqa: E402

with open(SAMPLE_MP4, "rb") as _fh:
    MP4 = _fh.read()


def listing(path):
    return sorted(os.listdir(path))


class Hostile(ToolsCase):
    backend_class = HostileBackend

    def export_fails(self, args, mcp=None):
        return self.fails("export", dict(args, wait_seconds=30), mcp)

    def write(self, path, data):
        with open(path, "wb") as fh:
            fh.write(data)

    def read(self, path):
        with open(path, "rb") as fh:
            return fh.read()


class DownloadTargets(Hostile):
    """Finding 2: download_to wrote ~/.bashrc and authorized_keys."""

    def setUp(self):
        super().setUp()
        self.rb.set_state(self.session(), draft=SEED_DRAFT)

    def renders(self):
        return self.requests("/api/render/proxy/lambda")

    def test_shell_start_up_and_key_files_are_refused(self):
        bashrc = os.path.join(self.tmp, ".bashrc")
        self.write(bashrc, b"export PATH=/usr/bin\n")
        os.mkdir(os.path.join(self.tmp, ".ssh"))
        for target, why in (
                ("~/.bashrc", "hidden file name"),
                ("~/.ssh/authorized_keys", "does not end in .mp4"),
                ("~/.ssh/", "hidden folder"),
                ("~/.ssh/clip.mp4", "hidden folder"),
                ("~/.profile.mp4", "hidden file name"),
                ("~/notes.txt", "does not end in .mp4")):
            text = self.fails("export", {"download_to": target,
                                         "overwrite": True})
            self.assertIn(why, text, target)
        self.assertEqual(self.renders(), [])
        self.assertEqual(self.read(bashrc), b"export PATH=/usr/bin\n")
        self.assertEqual(listing(os.path.join(self.tmp, ".ssh")), [])

    def test_overwrite_replaces_only_an_mp4(self):
        notes = os.path.join(self.work, "notes.mp4")
        self.write(notes, b"#!/bin/sh\necho mine\n")
        text = self.fails("export", {"download_to": notes,
                                     "overwrite": True})
        self.assertIn("not an MP4", text)
        self.assertEqual(self.read(notes), b"#!/bin/sh\necho mine\n")
        self.assertEqual(self.renders(), [])

    def test_roots_bound_downloads(self):
        inside = os.path.join(self.work, "inside")
        os.mkdir(inside)
        mcp = self.start_server({"NEMO_DOWNLOAD_ROOTS": inside})
        text = self.fails("export", {"download_to": self.work}, mcp)
        self.assertIn("outside the folders", text)
        st = self.ok("export", {"download_to": inside, "wait_seconds": 30},
                     mcp)
        self.assertEqual(os.path.dirname(st["path"]), inside)


class Bodies(Hostile):
    """Findings 2 and 3: a fake MP4, an endless body, lying lengths. Each
    fails and leaves nothing in the target folder."""

    def setUp(self):
        super().setUp()
        self.rb.set_state(self.session(), draft=SEED_DRAFT)
        self.dest = os.path.join(self.work, "out.mp4")

    def attack_fails(self, kind, size=None, mcp=None):
        self.rb.attack(render_url="{base}/evil/" + kind, render_size=size)
        text = self.export_fails({"download_to": self.dest}, mcp)
        self.assertEqual(listing(self.work), [], text)
        return text

    def test_fake_mp4_with_shell_lines(self):
        text = self.attack_fails("fake_mp4")
        self.assertIn("not an MP4", text)
        self.assertIn("ftyp box has an implausible size", text)

    def test_endless_body_stops_at_the_cap(self):
        mcp = self.start_server({"NEMO_DOWNLOAD_MAX_BYTES": "1000000"})
        text = self.attack_fails("endless", mcp=mcp)
        self.assertIn("more than the download limit of 1000000 bytes", text)

    def test_endless_body_stops_at_the_reported_size(self):
        text = self.attack_fails("endless", size=len(MP4))
        self.assertIn("more than the render's reported %d bytes" % len(MP4),
                      text)

    def test_length_that_disagrees_with_the_render(self):
        text = self.attack_fails("short_length", size=len(MP4))
        self.assertIn("announced 1000 bytes, but the render reported %d"
                      % len(MP4), text)

    def test_length_past_the_cap(self):
        text = self.attack_fails("big_length")
        self.assertIn("announced 10737418240 bytes, but downloads are "
                      "limited to 4294967296", text)

    def test_length_longer_than_the_body(self):
        text = self.attack_fails("long_length")
        self.assertTrue("cut short" in text or "interrupted" in text, text)

    def test_a_valid_download_still_works(self):
        self.rb.attack(render_url="{base}/evil/mp4", render_size=len(MP4))
        st = self.ok("export", {"download_to": self.dest,
                                "wait_seconds": 30})
        self.assertEqual(self.read(self.dest), MP4)
        self.assertEqual(st["bytes"], len(MP4))


class BackendLinks(Hostile):
    """Finding 11: an https backend handing over http://127.0.0.1:<port>.
    The API base here is plain http on loopback (no TLS in tests), so
    NEMO_TEST_REMOTE_BASE=1 makes the client treat it as the remote https
    service for this one decision."""

    def setUp(self):
        super().setUp()
        self.rb.set_state(self.session(), draft=SEED_DRAFT)
        self.mcp = self.start_server({"NEMO_TEST_REMOTE_BASE": "1",
                                      "NEMO_RENDER_POLL_MS": "10"})
        self.dest = os.path.join(self.work, "out.mp4")
        self.port = self.rb.port

    def link_refused(self, url, why):
        self.rb.attack(render_url=url)
        text = self.export_fails({"download_to": self.dest})
        self.assertIn(why, text)
        self.assertEqual(self.rb.evil_requests(), [])
        self.assertEqual(listing(self.work), [])

    def test_plain_http_to_a_local_port(self):
        self.link_refused("http://127.0.0.1:%d/evil/mp4" % self.port,
                          "only https links are followed")

    def test_https_to_a_loopback_literal(self):
        self.link_refused("https://127.0.0.1:%d/evil/mp4" % self.port,
                          "loopback address")

    def test_https_to_private_and_mapped_literals(self):
        self.link_refused("https://[::ffff:127.0.0.1]:%d/evil/mp4"
                          % self.port, "loopback address")
        self.link_refused("https://169.254.169.254/latest/meta-data",
                          "link-local")

    def test_a_name_that_resolves_to_loopback(self):
        # Judged on the address libcurl is about to connect to: refused
        # before any byte is sent.
        self.link_refused("https://localhost:%d/evil/mp4" % self.port,
                          "Refusing to connect to localhost")

    def test_redirects_from_the_api(self):
        for target, why in (
                ("http://127.0.0.1:%d/evil/mp4" % self.port,
                 "only https links are followed"),
                ("https://localhost:%d/evil/mp4" % self.port,
                 "Refusing to connect to localhost")):
            self.rb.attack(redirect_status=target)
            text = self.export_fails({})
            self.assertIn(why, text)
        self.assertEqual(self.rb.evil_requests(), [])

    def test_loopback_base_still_allows_local_links(self):
        mcp = self.start_server()
        self.rb.attack(render_url="{base}/evil/mp4", render_size=len(MP4))
        st = self.ok("export", {"download_to": self.dest,
                                "wait_seconds": 30}, mcp)
        self.assertEqual(st["bytes"], len(MP4))


class Resumed(Hostile):
    """Finding 10 and the second half of finding 8: a resumed export."""

    def kill(self, mcp):
        mcp.proc.send_signal(signal.SIGKILL)
        mcp.proc.wait(10)

    def start_slow_download(self):
        self.rb.set_state(self.session(), draft=SEED_DRAFT)
        self.rb.fault("/files/", "slow", delay_ms=3000)
        st = self.ok("export", {"download_to": self.work,
                                "wait_seconds": 0})
        self.rb.wait_for_request("/files/")
        self.kill(self.mcp)
        return st

    def test_planted_file_at_dest_is_not_claimed(self):
        st = self.start_slow_download()
        dest = os.path.join(self.work, st["render_id"] + ".mp4")
        self.write(dest, MP4)             # a valid MP4, but not ours
        os.utime(dest, (1, 1))
        fresh = self.start_server()
        res = self.call("job", {"job": st["job"], "wait_seconds": 60},
                        fresh)
        self.assertTrue(res.get("isError"), res)
        self.assertIn("already exists", json.dumps(res))
        self.assertEqual(os.stat(dest).st_mtime, 1)
        self.assertEqual(listing(self.work), [os.path.basename(dest)])

    def test_recorded_dest_is_checked_again(self):
        self.rb.set_state(self.session(), draft=SEED_DRAFT)
        self.rb.config(render_steps=list(range(1, 100)))
        st = self.ok("export", {"download_to": self.work,
                                "wait_seconds": 0})
        self.rb.wait_for_request("/api/render/proxy/lambda/")
        self.kill(self.mcp)
        # Someone edits the job record: dest ~/.bashrc, overwrite on.
        bashrc = os.path.join(self.tmp, ".bashrc")
        self.write(bashrc, b"export PATH=/usr/bin\n")
        path = os.path.join(self.state_dir, "jobs", st["job"] + ".json")
        with open(path) as fh:
            rec = json.load(fh)
        rec["resume"]["dest"] = bashrc
        rec["resume"]["overwrite"] = True
        with open(path, "w") as fh:
            json.dump(rec, fh)
        fresh = self.start_server()
        res = self.call("job", {"job": st["job"], "wait_seconds": 60},
                        fresh)
        text = json.dumps(res)
        self.assertIn("not allowed", text)
        self.assertIn("hidden file name", text)
        self.assertEqual(self.read(bashrc), b"export PATH=/usr/bin\n")
        self.assertEqual(self.requests("/files/"), [])


class Uploads(Hostile):
    """Finding 1: the path changes between the check and the send. The
    hostile backend runs the change while the upload tool creates its
    session, after the files were checked and before they are sent."""

    def setUp(self):
        super().setUp()
        self.clip = os.path.join(self.work, "clip.mp4")
        self.write(self.clip, MP4 + b"CHECKED-CONTENT" * 1000)
        self.size = os.path.getsize(self.clip)

    def stored(self):
        """The bytes of every upload the backend kept (once it is done
        with the request: an aborted body is dropped when it notices)."""
        self.rb.wait_for_request("/api/upload-video/", done=True)
        d = self.rb.backend.data_dir
        return [self.read(os.path.join(d, n)) for n in sorted(os.listdir(d))
                if os.path.isfile(os.path.join(d, n))]

    def upload(self, path):
        st = self.ok("upload", {"files": [path]})
        return st["files"][0]

    def test_symlink_swapped_after_the_check(self):
        # The checked file itself is replaced by a symlink to a key: a
        # client that opens the path again sends the key.
        secret = os.path.join(self.tmp, "id_rsa")
        self.write(secret, b"-----BEGIN OPENSSH PRIVATE KEY-----\n" * 50)
        checked = self.read(self.clip)

        def swap():
            tmp_link = self.clip + ".swap"
            os.symlink(secret, tmp_link)
            os.rename(tmp_link, self.clip)
        self.rb.on_session(swap)
        entry = self.upload(self.clip)
        self.assertEqual(os.readlink(self.clip), secret)  # it happened
        self.assertEqual(entry["status"], "uploaded", entry)
        self.assertEqual(entry["bytes"], self.size)
        kept = self.stored()
        self.assertEqual(len(kept), 1)
        self.assertEqual(kept[0], checked)
        self.assertNotIn(b"PRIVATE KEY", kept[0])

    def test_file_shrunk_after_the_check(self):
        self.rb.on_session(lambda: os.truncate(self.clip, 100))
        entry = self.upload(self.clip)
        self.assertEqual(entry["status"], "failed", entry)
        self.assertIn("shrank after it was checked", entry["reason"])
        self.assertEqual(self.stored(), [])

    def test_file_grown_after_the_check(self):
        def grow():
            with open(self.clip, "ab") as fh:
                fh.write(b"\0" * (4 << 20))
        self.rb.on_session(grow)
        entry = self.upload(self.clip)
        self.assertEqual(entry["status"], "failed", entry)
        self.assertIn("grew after it was checked", entry["reason"])
        self.assertEqual(self.stored(), [])
        up, = self.requests("/api/upload-video/")
        self.assertLessEqual(up.get("body_size", 0), self.size)


if __name__ == "__main__":
    unittest.main()
