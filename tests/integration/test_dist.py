"""The artefacts `make dist` builds (packaging/dist.mk), each checked the way
its users meet it:

  release     ldd: only the C library, plus cJSON beside it ($ORIGIN)
  .mcpb       the official @anthropic-ai/mcpb CLI validates the manifest and
              unpacks the bundle; the unpacked binary answers a handshake
              and tools/list, and attributes requests with its SKILL.md
  skill       installed under ~/.openclaw/skills, ~/.clawhub/skills,
              ~/.cursor/skills and ~/.claude/skills of a temporary HOME:
              doctor and the headers
              the reference backend logs name the right platform
  .deb        dpkg-deb metadata, then dpkg -x into a temporary root and run
  server.json valid against the MCP Registry schema 2025-12-11 (Ajv), one
              mcpb package per bundle with its sha256

`make test` builds dist/ before the suite runs; the portable pass skips this
file (it checks the release build, not the one under test)."""
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "backend"))

from mcpclient import McpProcess  # noqa: E402
from refbackend import RefBackend  # noqa: E402

DIST = os.path.join(ROOT, "dist")
RELEASE = os.path.join(ROOT, "build-release", "nemo-mcp")
DIST_TOOLS = os.path.join(ROOT, "tests", "dist")
MCPB_CLI = os.path.join(DIST_TOOLS, "node_modules", ".bin", "mcpb")
SCHEMA = os.path.join(DIST_TOOLS, "schema", "server.schema.2025-12-11.json")
TOOLS = ["credits", "session", "upload", "generate", "job", "state", "export"]
# What the C library may bring in; anything else must be inside the package.
SYSTEM = re.compile(r"^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|"
                    r"librt)[.-]")


def setUpModule():
    if os.environ.get("NEMO_PORTABLE_PASS"):
        raise unittest.SkipTest("dist/ is built from the release build")


def version():
    with open(os.path.join(ROOT, "Makefile")) as f:
        return re.search(r"^VERSION\s*:=\s*(\S+)", f.read(), re.M).group(1)


def ldd(binary):
    """{soname: resolved path or None}"""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True,
                         check=True).stdout
    deps = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)", line)
        if m:
            deps[m.group(1)] = None if m.group(2) == "not" else m.group(2)
        else:
            m = re.match(r"\s*(\S+)\s+\(", line)
            if m:
                deps[os.path.basename(m.group(1))] = m.group(1)
    return deps


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


class DistCase(unittest.TestCase):
    def assertSelfContained(self, binary, libdir):
        """Only the C library from the system; the rest from libdir."""
        deps = ldd(binary)
        self.assertTrue(deps, "ldd listed nothing")
        for soname, path in deps.items():
            if SYSTEM.match(soname):
                continue
            self.assertIsNotNone(path, f"{soname} not found")
            self.assertEqual(os.path.dirname(os.path.realpath(path)),
                             os.path.realpath(libdir),
                             f"{soname} comes from {path}")
        for gone in ("libyaml", "libuuid", "libcurl", "libssl"):
            self.assertFalse([s for s in deps if s.startswith(gone)],
                             f"{gone} is linked: {sorted(deps)}")


class Release(DistCase):
    def test_ldd_only_libc_and_bundled_cjson(self):
        self.assertSelfContained(RELEASE, os.path.dirname(RELEASE))
        dyn = subprocess.run(["readelf", "-d", RELEASE], capture_output=True,
                             text=True, check=True).stdout
        self.assertRegex(dyn, r"R(UN)?PATH.*\$ORIGIN")
        needed = re.findall(r"NEEDED.*\[(.*)\]", dyn)
        self.assertFalse([n for n in needed if "yaml" in n or "uuid" in n
                          or "curl" in n], needed)
        # and it runs, loading libcurl itself
        r = subprocess.run([RELEASE, "--version"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(r.stdout.strip(), f"nemo-mcp {version()}")


class Backend(DistCase):
    @classmethod
    def setUpClass(cls):
        cls.rb = RefBackend(seed=9).start()

    @classmethod
    def tearDownClass(cls):
        cls.rb.stop()

    def setUp(self):
        self.rb.reset()
        self.tmp = tempfile.TemporaryDirectory(prefix="nemo-dist-")
        self.addCleanup(self.tmp.cleanup)

    def attribution(self):
        """The X-Skill-* headers of the last credits request."""
        reqs = self.rb.requests("/api/credits")
        self.assertTrue(reqs, "no credits request reached the backend")
        h = reqs[-1]["headers_lower"]
        return (h.get("x-skill-source"), h.get("x-skill-version"),
                h.get("x-skill-platform"))


class Mcpb(Backend):
    def bundle(self):
        found = glob.glob(os.path.join(DIST, "nemo-mcp-*.mcpb"))
        self.assertEqual(len(found), 1, found)
        name = os.path.basename(found[0])
        self.assertRegex(name, rf"^nemo-mcp-{re.escape(version())}-"
                               r"(linux|darwin)-(x64|arm64)\.mcpb$")
        return found[0]

    def unpack(self):
        out = os.path.join(self.tmp.name, "unpacked")
        r = subprocess.run([MCPB_CLI, "unpack", self.bundle(), out],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return out

    def test_manifest_valid_for_the_official_cli(self):
        out = self.unpack()
        r = subprocess.run([MCPB_CLI, "validate",
                            os.path.join(out, "manifest.json")],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("passes", r.stdout)
        with open(os.path.join(out, "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual(m["manifest_version"], "0.3")
        self.assertEqual(m["version"], version())
        self.assertEqual(m["server"]["type"], "binary")
        self.assertEqual(m["server"]["mcp_config"]["command"],
                         "${__dirname}/server/nemo-mcp")
        self.assertEqual(m["server"]["entry_point"], "server/nemo-mcp")
        tok = m["user_config"]["nemo_token"]
        self.assertEqual((tok["type"], tok["required"], tok["sensitive"],
                          tok["default"]), ("string", False, True, ""))
        self.assertEqual(m["server"]["mcp_config"]["env"]["NEMO_TOKEN"],
                         "${user_config.nemo_token}")
        bundle = os.path.basename(self.bundle())
        platform = "darwin" if "-darwin-" in bundle else "linux"
        self.assertEqual(m["compatibility"]["platforms"], [platform])
        # the icon is a real PNG of the recommended size
        with open(os.path.join(out, m["icon"]), "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(head[16:24], (512).to_bytes(4, "big") * 2)
        # SKILL.md travels beside the binary (attribution)
        self.assertTrue(os.path.isfile(os.path.join(out, "server",
                                                    "SKILL.md")))
        # every tool, titled as the binary titles it
        with McpProcess(binary=os.path.join(out, "server", "nemo-mcp"),
                        env={"NEMO_API_BASE": self.rb.url}) as mcp:
            mcp.initialize()
            listed = mcp.request("tools/list")["result"]["tools"]
        self.assertEqual([t["name"] for t in m["tools"]],
                         [t["name"] for t in listed])
        for entry, tool in zip(m["tools"], listed):
            self.assertTrue(entry["description"].startswith(
                tool["title"] + ": "), entry)

    def test_a_broken_manifest_is_refused(self):
        """The validator is not a rubber stamp."""
        out = self.unpack()
        path = os.path.join(out, "manifest.json")
        with open(path) as f:
            m = json.load(f)
        m["server"]["type"] = "shell"
        with open(path, "w") as f:
            json.dump(m, f)
        r = subprocess.run([MCPB_CLI, "validate", path], capture_output=True,
                           text=True, timeout=120)
        self.assertNotEqual(r.returncode, 0)

    def test_unpacked_binary_serves_and_attributes(self):
        out = self.unpack()
        binary = os.path.join(out, "server", "nemo-mcp")
        self.assertTrue(os.access(binary, os.X_OK))
        # Claude Desktop passes the empty default when no token is set.
        with McpProcess(binary=binary,
                        env={"NEMO_API_BASE": self.rb.url,
                             "NEMO_TOKEN": "", "NEMO_SKILL_FILE": None,
                             "HOME": self.tmp.name}) as mcp:
            init = mcp.initialize()
            self.assertEqual(init["result"]["serverInfo"]["version"],
                             version())
            names = [t["name"] for t in
                     mcp.request("tools/list")["result"]["tools"]]
            self.assertEqual(sorted(names), sorted(TOOLS))
            r = mcp.call_tool("credits", {})
            self.assertFalse(r["result"].get("isError"), r)
        self.assertEqual(self.attribution()[:2], ("nemo-mcp", version()))
        self.assertSelfContained(binary, os.path.dirname(binary))


class Skill(Backend):
    # install dir under $HOME -> the platform the binary must report
    PLACES = [(".openclaw/skills/nemo-mcp", "openclaw"),
              (".clawhub/skills/nemo-mcp", "clawhub"),
              (".cursor/skills/nemo-mcp", "cursor"),
              (".claude/skills/nemo-mcp", "claude_code")]

    def test_frontmatter_has_the_ecosystem_shape(self):
        import yaml
        with open(os.path.join(DIST, "skill", "nemo-mcp", "SKILL.md")) as f:
            text = f.read()
        fm = yaml.safe_load(text.split("---\n")[1])
        for key in ("name", "version", "description", "homepage",
                    "repository", "license"):
            self.assertIsInstance(fm.get(key), str, key)
        self.assertEqual(fm["name"], "nemo-mcp")
        self.assertEqual(fm["version"], version())
        oc = fm["metadata"]["openclaw"]
        # the seeds' shape, with no variable required (anonymous token)
        self.assertEqual(oc["requires"]["env"], [])
        self.assertEqual(oc["requires"]["configPaths"],
                         ["~/.config/nemovideo/"])
        self.assertEqual(oc["primaryEnv"], "NEMO_TOKEN")
        body = text.split("---\n", 2)[2]
        for tool in TOOLS:   # every flow works without MCP
            self.assertIn(f"nemo-mcp call {tool}", body)
        for host in ("claude mcp add", "mcpServers"):
            self.assertIn(host, body)

    def test_installed_under_each_host_reports_its_platform(self):
        for place, platform in self.PLACES:
            with self.subTest(place=place):
                self.rb.reset()
                home = tempfile.mkdtemp(dir=self.tmp.name)
                skill_dir = os.path.join(home, place)
                shutil.copytree(os.path.join(DIST, "skill", "nemo-mcp"),
                                skill_dir, symlinks=True)
                binary = os.path.join(skill_dir, "bin", "nemo-mcp")
                env = clean_env(HOME=home, NEMO_API_BASE=self.rb.url,
                                NEMO_CONFIG_DIR=os.path.join(home, "cfg"),
                                NEMO_LOG="error")
                doc = subprocess.run([binary, "doctor"], env=env,
                                     capture_output=True, text=True,
                                     timeout=60)
                self.assertEqual(doc.returncode, 0, doc.stdout + doc.stderr)
                self.assertIn(f"platform={platform}", doc.stdout)
                self.assertIn(os.path.join(skill_dir, "SKILL.md"),
                              doc.stdout)
                r = subprocess.run([binary, "call", "credits"], env=env,
                                   capture_output=True, text=True,
                                   timeout=60)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertEqual(self.attribution(),
                                 ("nemo-mcp", version(), platform))


class Deb(Backend):
    def deb(self):
        found = glob.glob(os.path.join(DIST, "nemo-mcp_*.deb"))
        self.assertEqual(len(found), 1, found)
        return found[0]

    def test_metadata(self):
        info = subprocess.run(["dpkg-deb", "--field", self.deb()],
                              capture_output=True, text=True, check=True)
        fields = dict(re.findall(r"^(\S+): (.*)$", info.stdout, re.M))
        self.assertEqual(fields["Package"], "nemo-mcp")
        self.assertEqual(fields["Version"], version())
        deps = [d.strip() for d in fields["Depends"].split(",")]
        self.assertEqual(len(deps), 2, deps)
        self.assertRegex(deps[0], r"^libc6( \(>= [\d.]+\))?$")
        self.assertIn("libcurl4", deps[1])
        listing = subprocess.run(["dpkg-deb", "--contents", self.deb()],
                                 capture_output=True, text=True,
                                 check=True).stdout
        for path in ("./usr/bin/nemo-mcp", "./usr/share/nemo-mcp/SKILL.md",
                     "./usr/share/doc/nemo-mcp/copyright"):
            self.assertIn(path, listing)
        self.assertRegex(listing, r"-rwxr-xr-x root/root .* ./usr/bin/"
                                  r"nemo-mcp")

    def test_installs_into_a_root_and_runs(self):
        root = os.path.join(self.tmp.name, "root")
        subprocess.run(["dpkg", "-x", self.deb(), root], check=True)
        binary = os.path.join(root, "usr", "bin", "nemo-mcp")
        r = subprocess.run([binary, "--version"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(r.stdout.strip(), f"nemo-mcp {version()}")
        env = clean_env(HOME=self.tmp.name, NEMO_API_BASE=self.rb.url,
                        NEMO_CONFIG_DIR=os.path.join(self.tmp.name, "cfg"),
                        NEMO_LOG="error")
        doc = subprocess.run([binary, "doctor"], env=env, capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(doc.returncode, 0, doc.stdout + doc.stderr)
        self.assertIn(os.path.join(root, "usr", "share", "nemo-mcp",
                                   "SKILL.md"), doc.stdout)
        r = subprocess.run([binary, "call", "credits"], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.attribution()[:2], ("nemo-mcp", version()))
        self.assertSelfContained(binary, os.path.join(root, "usr", "lib",
                                                      "nemo-mcp"))


class ServerJson(DistCase):
    def validate(self, path):
        return subprocess.run(["node", os.path.join(DIST_TOOLS,
                                                    "validate.mjs"),
                               SCHEMA, path], capture_output=True, text=True,
                              timeout=60)

    def test_valid_against_the_registry_schema(self):
        path = os.path.join(DIST, "server.json")
        r = self.validate(path)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(path) as f:
            doc = json.load(f)
        with open(SCHEMA) as f:
            self.assertEqual(doc["$schema"], json.load(f)["$id"])
        self.assertEqual(doc["version"], version())
        bundles = sorted(glob.glob(os.path.join(DIST, "*.mcpb")))
        self.assertEqual(len(doc["packages"]), len(bundles))
        for pkg, bundle in zip(doc["packages"], bundles):
            self.assertEqual(pkg["registryType"], "mcpb")
            self.assertTrue(pkg["identifier"].endswith(
                "/" + os.path.basename(bundle)))
            with open(bundle, "rb") as f:
                self.assertEqual(pkg["fileSha256"],
                                 hashlib.sha256(f.read()).hexdigest())
            self.assertEqual(pkg["transport"], {"type": "stdio"})
            token = [e for e in pkg["environmentVariables"]
                     if e["name"] == "NEMO_TOKEN"]
            self.assertEqual(len(token), 1)
            self.assertTrue(token[0]["isSecret"])
            self.assertFalse(token[0]["isRequired"])

    def test_the_schema_check_catches_a_bad_document(self):
        with open(os.path.join(DIST, "server.json")) as f:
            doc = json.load(f)
        doc["packages"][0]["fileSha256"] = "not-a-digest"
        doc["description"] = "x" * 101
        with tempfile.NamedTemporaryFile("w", suffix=".json",
                                         delete=False) as f:
            json.dump(doc, f)
        self.addCleanup(os.unlink, f.name)
        r = self.validate(f.name)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("fileSha256", r.stdout)


class Bundle(unittest.TestCase):
    def test_zip_modes(self):
        """The binary keeps its execute bit inside the zip, the rest not."""
        bundle = glob.glob(os.path.join(DIST, "nemo-mcp-*.mcpb"))[0]
        with zipfile.ZipFile(bundle) as z:
            modes = {i.filename: (i.external_attr >> 16) & 0o777
                     for i in z.infolist()}
        self.assertEqual(modes["server/nemo-mcp"], 0o755)
        self.assertEqual(modes["manifest.json"], 0o644)


if __name__ == "__main__":
    unittest.main()
