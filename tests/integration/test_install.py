"""`make install` honours PREFIX and DESTDIR, and the installed binary finds
its SKILL.md in <prefix>/share/nemo-mcp (so exports carry attribution)."""
import os
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("NEMO_BUILD", os.path.join(ROOT, "build"))


class Install(unittest.TestCase):
    def test_prefix_and_destdir(self):
        with tempfile.TemporaryDirectory(prefix="nemo-dest-") as dest:
            proc = subprocess.run(
                ["make", "-s", "--no-print-directory",
                 f"BUILD={os.path.relpath(BUILD, ROOT)}", "install",
                 "PREFIX=/opt/nemo", f"DESTDIR={dest}"],
                cwd=ROOT, capture_output=True, text=True, timeout=300)
            self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
            binary = os.path.join(dest, "opt/nemo/bin/nemo-mcp")
            skill = os.path.join(dest, "opt/nemo/share/nemo-mcp/SKILL.md")
            self.assertTrue(os.access(binary, os.X_OK))
            self.assertTrue(os.path.isfile(skill))
            self.assertEqual(os.stat(binary).st_mode & 0o777, 0o755)
            out = subprocess.run([binary, "--version"], capture_output=True,
                                 text=True, timeout=10)
            self.assertEqual(out.returncode, 0)
            self.assertIn("nemo-mcp", out.stdout)
            # The relocated binary reads the installed SKILL.md.
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith("NEMO_")}
            env.update({"NEMO_API_BASE": "http://127.0.0.1:9",
                        "NEMO_CONFIG_DIR": os.path.join(dest, "cfg"),
                        "NEMO_STATE_DIR": os.path.join(dest, "state")})
            doc = subprocess.run([binary, "doctor"], capture_output=True,
                                 text=True, timeout=30, env=env)
            self.assertIn(skill, doc.stdout)
            self.assertNotEqual(doc.returncode, 0)  # backend unreachable
            self.assertIn("FAIL", doc.stdout)


if __name__ == "__main__":
    unittest.main()
