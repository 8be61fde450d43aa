#!/usr/bin/env python3
"""Build the distribution artefacts from the release binary (standard
library only; called by packaging/dist.mk).

  libs BIN                 copy the shared libraries BIN needs that are
                           not part of the C library beside it (cJSON)
  mcpb ...                 Claude Desktop bundle (MCPB manifest 0.3)
  skill ...                OpenClaw / clawhub / Cursor skill folder
  deb ...                  Debian package (dpkg-deb)
  server-json ...          MCP Registry server.json for the bundles in dist/
  icon OUT                 the 512x512 PNG icon

The tool list in the bundle manifest comes from the binary itself
(initialize + tools/list over stdio), so it cannot drift from the code.
"""
import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

DISPLAY_NAME = "NemoVideo"
SHORT_DESC = "Make and edit videos with the NemoVideo AI backend: upload, " \
             "describe the edit, export an MP4."
LONG_DESC = (
    "nemo-mcp is one small native binary that gives an AI assistant "
    "NemoVideo's video editor as tools: check credits, upload clips, images "
    "and audio (local files or URLs), describe the edit in plain words, read "
    "the timeline, and export an MP4 straight to disk. Rendering happens on "
    "NemoVideo's servers. Without a token it uses a free anonymous one.")
TOKEN_ENV = {
    "name": "NEMO_TOKEN",
    "description": "NemoVideo API token (optional: without one the server "
                   "gets a free anonymous token and keeps it in its config "
                   "folder).",
}
# The C library: what `make release` may still need from the system.
SYSTEM_LIBS = re.compile(r"^(linux-vdso|linux-gate|ld-linux|libc|libm|libdl|"
                         r"libpthread|librt|libresolv)[.-]")
FIXED_TIME = (2020, 1, 1, 0, 0, 0)          # reproducible zip entries


def die(msg):
    sys.stderr.write(f"dist: {msg}\n")
    sys.exit(1)


# ---- shared libraries beside the binary -----------------------------------

def linux_deps(binary):
    """(soname, resolved path) for each library ldd lists."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True,
                         check=True).stdout
    deps = []
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)", line)
        if m:
            deps.append((m.group(1), m.group(2)))
        else:
            m = re.match(r"\s*(\S+)\s+\(", line)
            if m:
                deps.append((os.path.basename(m.group(1)), m.group(1)))
    return deps


def bundled_libs(binary):
    """Paths of the libraries shipped beside binary (not the C library)."""
    here = os.path.dirname(os.path.abspath(binary))
    return sorted(p for p in glob.glob(os.path.join(here, "lib*.so*")) +
                  glob.glob(os.path.join(here, "lib*.dylib")))


def cmd_libs(args):
    binary = args.bin
    here = os.path.dirname(os.path.abspath(binary))
    for old in bundled_libs(binary):
        os.unlink(old)
    if sys.platform == "darwin":
        out = subprocess.run(["otool", "-L", binary], capture_output=True,
                             text=True, check=True).stdout
        for line in out.splitlines()[1:]:
            path = line.strip().split(" (")[0]
            if path.startswith(("/usr/lib/", "/System/", "@")):
                continue
            name = os.path.basename(path)
            shutil.copy2(os.path.realpath(path), os.path.join(here, name))
            subprocess.run(["install_name_tool", "-change", path,
                            f"@rpath/{name}", binary], check=True)
        # editing load commands voids the (ad hoc) signature arm64 needs
        subprocess.run(["codesign", "--force", "--sign", "-", binary],
                       check=True)
        return
    for soname, path in linux_deps(binary):
        if SYSTEM_LIBS.match(soname):
            continue
        if not os.path.isfile(path):
            die(f"{binary} needs {soname}, which is not installed")
        shutil.copy2(os.path.realpath(path), os.path.join(here, soname))
        os.chmod(os.path.join(here, soname), 0o644)


def copy_stripped(binary, target):
    """The binary without its debug sections (build-release keeps them)."""
    if not shutil.which("strip") or subprocess.run(
            ["strip", "-o", target, binary], capture_output=True).returncode:
        shutil.copy2(binary, target)
    os.chmod(target, 0o755)


def install_binary(binary, dest_dir, lib_dir=None):
    """Copy binary (0755) and its bundled libraries (0644, into lib_dir,
    default beside it)."""
    os.makedirs(dest_dir, exist_ok=True)
    target = os.path.join(dest_dir, "nemo-mcp")
    copy_stripped(binary, target)
    lib_dir = lib_dir or dest_dir
    for lib in bundled_libs(binary):
        os.makedirs(lib_dir, exist_ok=True)
        dst = os.path.join(lib_dir, os.path.basename(lib))
        shutil.copy2(lib, dst)
        os.chmod(dst, 0o644)
    return target


# ---- asking the binary for its tools -------------------------------------

def list_tools(binary):
    """initialize + tools/list over stdio; returns the tools array."""
    with tempfile.TemporaryDirectory(prefix="nemo-dist-") as cfg:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("NEMO_")}
        env.update(NEMO_CONFIG_DIR=cfg, NEMO_LOG="error",
                   NEMO_API_BASE="http://127.0.0.1:9")
        msgs = [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                        "clientInfo": {"name": "dist", "version": "0"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        ]
        data = "".join(json.dumps(m) + "\n" for m in msgs)
        proc = subprocess.run([binary], input=data, capture_output=True,
                              text=True, env=env, timeout=30)
    for line in proc.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("id") == 2:
            return msg["result"]["tools"]
    die(f"{binary} did not answer tools/list: {proc.stderr[-500:]}")


def first_sentence(text):
    text = " ".join(text.split())
    # a full stop after a letter, bracket or quote, before a capital
    m = re.match(r"(.+?[A-Za-z)`\"'][.!?])(?=\s+[A-Z(`]|$)", text)
    return m.group(1) if m else text


# ---- icon ------------------------------------------------------------------

def png(width, height, pixel):
    """An RGBA PNG from pixel(x, y) -> (r, g, b, a)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0,
                                       0, 0)) +
            chunk(b"IDAT", zlib.compress(bytes(rows), 9)) +
            chunk(b"IEND", b""))


def icon_png(size=512):
    """A rounded violet square with a white play triangle."""
    r = size * 0.18

    def inside_rounded(x, y):
        cx = min(max(x, r), size - 1 - r)
        cy = min(max(y, r), size - 1 - r)
        return (x - cx) ** 2 + (y - cy) ** 2 <= r * r

    def inside_triangle(x, y):
        # points (0.38,0.28) (0.38,0.72) (0.74,0.5) of the square
        u, v = x / size, y / size
        if u < 0.38:
            return False
        half = 0.22 * (0.74 - u) / 0.36
        return abs(v - 0.5) <= half

    def pixel(x, y):
        if not inside_rounded(x + 0.5, y + 0.5):
            return (0, 0, 0, 0)
        if inside_triangle(x + 0.5, y + 0.5):
            return (255, 255, 255, 255)
        t = y / size
        return (int(108 + 40 * t), int(62 + 20 * t), int(230 - 40 * t), 255)
    return png(size, size, pixel)


def cmd_icon(args):
    with open(args.out, "wb") as f:
        f.write(icon_png())


# ---- MCP Bundle ----------------------------------------------------------

def mcpb_manifest(version, platform, tools):
    return {
        "manifest_version": "0.3",
        "name": "nemo-mcp",
        "display_name": DISPLAY_NAME,
        "version": version,
        "description": SHORT_DESC,
        "long_description": LONG_DESC,
        "author": {"name": "NemoVideo"},
        "homepage": "https://www.nemovideo.ai",
        "icon": "icon.png",
        "server": {
            "type": "binary",
            "entry_point": "server/nemo-mcp",
            "mcp_config": {
                "command": "${__dirname}/server/nemo-mcp",
                "args": [],
                "env": {"NEMO_TOKEN": "${user_config.nemo_token}"},
            },
        },
        # The 0.3 tool entry has name + description only: the title leads.
        "tools": [{"name": t["name"],
                   "description": (f"{t['title']}: " if t.get("title")
                                   else "") +
                   first_sentence(t.get("description", ""))}
                  for t in tools],
        "user_config": {
            "nemo_token": {
                "type": "string",
                "title": "NemoVideo token",
                "description": TOKEN_ENV["description"],
                "required": False,
                "sensitive": True,
                "default": "",
            },
        },
        "keywords": ["video", "video-editing", "nemovideo", "mcp"],
        "license": "MIT",
        # One bundle per platform: the binary inside runs on this one only.
        "compatibility": {"platforms": [platform]},
    }


def write_zip(out, files):
    """files: (archive name, source path or bytes, mode)."""
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, src, mode in files:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            if isinstance(src, bytes):
                z.writestr(info, src)
            else:
                with open(src, "rb") as f:
                    z.writestr(info, f.read())
    os.replace(tmp, out)


def cmd_mcpb(args):
    tools = list_tools(args.bin)
    stripped = tempfile.NamedTemporaryFile(prefix="nemo-mcpb-", delete=False)
    stripped.close()
    try:
        copy_stripped(args.bin, stripped.name)
        write_mcpb(args, tools, stripped.name)
    finally:
        os.unlink(stripped.name)
    print(f"dist: {args.out} ({len(tools)} tools)")


def write_mcpb(args, tools, binary):
    manifest = mcpb_manifest(args.version, args.platform, tools)
    files = [("manifest.json",
              (json.dumps(manifest, indent=2) + "\n").encode(), 0o644),
             ("icon.png", icon_png(), 0o644),
             ("server/nemo-mcp", binary, 0o755),
             ("server/SKILL.md", args.skill, 0o644)]
    for lib in bundled_libs(args.bin):
        files.append((f"server/{os.path.basename(lib)}", lib, 0o644))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_zip(args.out, files)


# ---- skill folder ----------------------------------------------------------

def cmd_skill(args):
    with open(args.skill, encoding="utf-8") as f:
        text = f.read().replace("@VERSION@", args.version)
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    with open(os.path.join(args.out, "SKILL.md"), "w", encoding="utf-8") as f:
        f.write(text)
    install_binary(args.bin, os.path.join(args.out, "bin"))
    print(f"dist: {args.out}/")


# ---- Debian package ------------------------------------------------------

def glibc_floor(paths):
    """Highest GLIBC_x.y symbol version any of paths needs, or None."""
    best = None
    for path in paths:
        try:
            out = subprocess.run(["objdump", "-T", path], capture_output=True,
                                 text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
        for m in re.finditer(r"GLIBC_(\d+)\.(\d+)(?:\.(\d+))?", out):
            v = tuple(int(x or 0) for x in m.groups())
            best = max(best or v, v)
    return best


def cmd_deb(args):
    if not shutil.which("dpkg-deb"):
        die("dpkg-deb is not installed (apt-get install dpkg)")
    with tempfile.TemporaryDirectory(prefix="nemo-deb-") as root:
        binary = install_binary(args.bin, os.path.join(root, "usr/bin"),
                                os.path.join(root, "usr/lib/nemo-mcp"))
        share = os.path.join(root, "usr/share/nemo-mcp")
        doc = os.path.join(root, "usr/share/doc/nemo-mcp")
        os.makedirs(share)
        os.makedirs(doc)
        shutil.copy2(args.skill, os.path.join(share, "SKILL.md"))
        shutil.copy2(os.path.join(ROOT, "LICENSE"),
                     os.path.join(doc, "copyright"))
        for d, _, names in os.walk(os.path.join(root, "usr")):
            os.chmod(d, 0o755)
            for n in names:
                p = os.path.join(d, n)
                os.chmod(p, 0o755 if p == binary else 0o644)
        libs = [binary] + bundled_libs(binary)
        floor = glibc_floor(libs)
        libc = "libc6" + (f" (>= {floor[0]}.{floor[1]})" if floor else "")
        size_kb = sum(os.path.getsize(os.path.join(d, n))
                      for d, _, ns in os.walk(os.path.join(root, "usr"))
                      for n in ns) // 1024 + 1
        os.makedirs(os.path.join(root, "DEBIAN"))
        control = (
            "Package: nemo-mcp\n"
            f"Version: {args.version}\n"
            f"Architecture: {args.arch}\n"
            "Maintainer: NemoVideo <support@nemovideo.ai>\n"
            f"Installed-Size: {size_kb}\n"
            # libcurl is dlopen()ed: no shlibs entry would name it.
            f"Depends: {libc}, libcurl4 | libcurl4t64\n"
            "Section: video\n"
            "Priority: optional\n"
            "Homepage: https://www.nemovideo.ai\n"
            f"Description: {SHORT_DESC}\n"
            " An MCP (Model Context Protocol) server for AI assistants, and a\n"
            " command line (`nemo-mcp call ...`) for agents without MCP.\n")
        with open(os.path.join(root, "DEBIAN/control"), "w") as f:
            f.write(control)
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        proc = subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz",
                               "--build", root, args.out],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            die(f"dpkg-deb failed: {proc.stderr.strip()}")
    print(f"dist: {args.out}")


# ---- MCP Registry --------------------------------------------------------

def cmd_server_json(args):
    bundles = sorted(glob.glob(os.path.join(args.dist, "*.mcpb")))
    if not bundles:
        die(f"no .mcpb in {args.dist}: run `make mcpb` first")
    packages = []
    for path in bundles:
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        packages.append({
            "registryType": "mcpb",
            "identifier": f"{args.repo}/releases/download/v{args.version}/"
                          f"{os.path.basename(path)}",
            "version": args.version,
            "fileSha256": digest,
            "transport": {"type": "stdio"},
            "environmentVariables": [
                dict(TOKEN_ENV, isRequired=False, isSecret=True,
                     format="string"),
                {"name": "NEMO_CONFIG_DIR",
                 "description": "Folder for the token, session and job "
                                "journal (default ~/.config/nemovideo).",
                 "isRequired": False, "format": "filepath"},
            ],
        })
    doc = {
        "$schema": "https://static.modelcontextprotocol.io/schemas/"
                   "2025-12-11/server.schema.json",
        "name": args.name,
        "title": DISPLAY_NAME,
        "description": SHORT_DESC,
        "version": args.version,
        "repository": {"url": args.repo, "source": "github"},
        "websiteUrl": "https://www.nemovideo.ai",
        "packages": packages,
    }
    with open(args.out, "w") as f:
        f.write(json.dumps(doc, indent=2) + "\n")
    print(f"dist: {args.out} ({len(packages)} bundle(s))")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--version", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("libs")
    p.add_argument("bin")
    p.set_defaults(fn=cmd_libs)
    p = sub.add_parser("icon")
    p.add_argument("out")
    p.set_defaults(fn=cmd_icon)
    p = sub.add_parser("mcpb")
    for opt in ("--bin", "--skill", "--platform", "--out"):
        p.add_argument(opt, required=True)
    p.set_defaults(fn=cmd_mcpb)
    p = sub.add_parser("skill")
    for opt in ("--bin", "--skill", "--out"):
        p.add_argument(opt, required=True)
    p.set_defaults(fn=cmd_skill)
    p = sub.add_parser("deb")
    for opt in ("--bin", "--skill", "--arch", "--out"):
        p.add_argument(opt, required=True)
    p.set_defaults(fn=cmd_deb)
    p = sub.add_parser("server-json")
    for opt in ("--dist", "--name", "--repo", "--out"):
        p.add_argument(opt, required=True)
    p.set_defaults(fn=cmd_server_json)
    args = ap.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
