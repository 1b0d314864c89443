#!/usr/bin/python3
"""What `meson install` puts on a machine: the binary, a man page per
subcommand that documents every option `--help` shows, bash, fish and zsh
completions that offer them, and the systemd units pointing at the
installed binary. Installs the build under test into a temporary
--destdir (nothing outside it is touched).

Usage: test_install.py BUILD_DIR
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import case, check, run_cases  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def setup():
    dest = tempfile.mkdtemp(prefix="callagent-install-")
    out = subprocess.run(["meson", "install", "-C", BUILD, "--destdir", dest, "--no-rebuild", "--quiet"],
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        raise RuntimeError(f"meson install failed: {out.stdout[-2000:]} {out.stderr[-2000:]}")
    intro = subprocess.run(["meson", "introspect", "--buildoptions", BUILD], capture_output=True, text=True,
                           check=True)
    opts = {o["name"]: o["value"] for o in json.loads(intro.stdout)}
    prefix = opts["prefix"]
    root = dest + prefix

    def under(key):
        v = opts[key]
        return os.path.join(root, v) if not os.path.isabs(v) else dest + v
    return {"dest": dest, "prefix": prefix, "bin": os.path.join(under("bindir"), "callagent"),
            "man1": os.path.join(under("mandir"), "man1"), "datadir": under("datadir"),
            "units": os.path.join(root, "lib", "systemd", "system")}


def teardown(ctx, failed):
    shutil.rmtree(ctx["dest"], ignore_errors=True)


def help_text(ctx, *cmd):
    out = subprocess.run([ctx["bin"], *cmd, "--help"], capture_output=True, text=True, timeout=30)
    check(out.returncode == 0, f"callagent {' '.join(cmd)} --help works", 0, out.returncode)
    return out.stdout


def subcommands(ctx):
    text = help_text(ctx)
    block = text.split("Subcommands:", 1)[1].split("\n\n", 1)[0]
    return [l.split()[0] for l in block.splitlines() if l.startswith("  ") and not l.startswith("   ")]


def help_options(text):
    """Every option name --help lists (the first column of each option line)."""
    names = set()
    for line in text.splitlines():
        m = re.match(r"^  (-[^ ]+)", line)
        if not m:
            continue
        for name in m.group(1).split(","):
            name = re.sub(r"\{.*$", "", name)  # CLI11 shows a flag's default as --flag{false}
            if name.startswith("-"):
                names.add(name)
    return names


def rendered_man(path):
    out = subprocess.run(["man", "-l", "-P", "cat", path], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "MANWIDTH": "200", "LC_ALL": "C.UTF-8"})
    check(out.returncode == 0, f"man renders {path}", 0, (out.returncode, out.stderr[-500:]))
    # man marks hyphenation points and breaks; undo both for the search.
    return out.stdout.replace("\u2010", "-").replace("\u00ad", "")


@case
def binary_is_installed_and_runs(ctx):
    check(os.access(ctx["bin"], os.X_OK), "the binary is installed", ctx["bin"], os.listdir(os.path.dirname(ctx["bin"])))
    out = subprocess.run([ctx["bin"], "--version"], capture_output=True, text=True, timeout=30)
    check(out.returncode == 0 and re.match(r"callagent \S+ \(git \S+\), GStreamer \d+\.\d+\.\d+", out.stdout),
          "--version names the release, revision and GStreamer", "callagent X (git R), GStreamer V", out.stdout)


@case
def every_option_of_every_command_is_in_its_man_page(ctx):
    pages = {"": os.path.join(ctx["man1"], "callagent.1")}
    for sub in subcommands(ctx):
        pages[sub] = os.path.join(ctx["man1"], f"callagent-{sub}.1")
    check(len(pages) >= 6, "the top level and every subcommand", ">= 6 pages", sorted(pages))
    for sub, page in pages.items():
        check(os.path.isfile(page), f"{page} is installed", "exists", sorted(os.listdir(ctx["man1"])))
        text = rendered_man(page)
        opts = help_options(help_text(ctx, *([sub] if sub else [])))
        check(len(opts) >= 2, f"callagent {sub} --help lists options", ">= 2", opts)
        in_man = set(OPTION.findall(text))
        missing = sorted(opts - in_man)
        check(not missing, f"man page of '{sub or 'callagent'}' documents every option", "none missing", missing)
        if sub:
            check(f"callagent-{sub}" in text and "EXIT STATUS" in text, f"callagent-{sub}(1) has NAME and EXIT STATUS",
                  "both", text[:300])


@case
def completions_offer_every_option(ctx):
    bash = os.path.join(ctx["datadir"], "bash-completion", "completions", "callagent")
    fish = os.path.join(ctx["datadir"], "fish", "vendor_completions.d", "callagent.fish")
    for f in (bash, fish):
        check(os.path.isfile(f), f"{f} is installed", "exists", None)
    subs = subcommands(ctx)
    for sub in subs:
        # Ask bash itself, as a shell user would: `callagent SUB --<TAB>`.
        script = (f"source {bash}; COMP_WORDS=(callagent {sub} --); COMP_CWORD=2; _callagent; "
                  "printf '%s\\n' \"${COMPREPLY[@]}\"")
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
        offered = set(out.stdout.split())
        wanted = {o for o in help_options(help_text(ctx, sub)) if o.startswith("--")}
        missing = sorted(wanted - offered)
        check(not missing, f"bash completes every long option of '{sub}'", "none missing", missing)
    script = f"source {bash}; COMP_WORDS=(callagent join --video ''); COMP_CWORD=3; _callagent; echo \"${{COMPREPLY[@]}}\""
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    check({"720p", "1080p"} <= set(out.stdout.split()), "bash completes --video with the presets", "720p 1080p ...",
          out.stdout)
    script = f"source {bash}; COMP_WORDS=(callagent ''); COMP_CWORD=1; _callagent; echo \"${{COMPREPLY[@]}}\""
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    check(set(subs) <= set(out.stdout.split()), "bash completes the subcommands", subs, out.stdout)
    text = open(fish).read()
    for sub in subs:
        check(f"-a {sub} " in text, f"fish completes subcommand {sub}", sub, None)
    zsh = os.path.join(ctx["datadir"], "zsh", "vendor-completions", "_callagent")
    check(os.path.isfile(zsh), f"{zsh} is installed", "exists", None)
    if shutil.which("zsh"):
        out = subprocess.run(["zsh", "-n", zsh], capture_output=True, text=True, timeout=30)
        check(out.returncode == 0, "the zsh completion parses", 0, out.stderr[-500:])
    text = open(zsh).read()
    for sub in subs:
        section = text.split(f"\n  {sub})\n", 1)
        check(len(section) == 2, f"zsh completes subcommand {sub}", sub, None)
        body = section[1].split(";;", 1)[0]
        missing = sorted(o for o in help_options(help_text(ctx, sub)) if f"'{o}[" not in body and f"'*{o}[" not in body)
        check(not missing, f"zsh completes every option of '{sub}'", "none missing", missing)


@case
def units_start_the_installed_binary(ctx):
    for unit in ("callagent-serve.service", "callagent-terminal@.service"):
        path = os.path.join(ctx["units"], unit)
        check(os.path.isfile(path), f"{unit} is installed", path, None)
        execs = [l for l in open(path) if l.startswith("ExecStart=")]
        want = os.path.join(ctx["prefix"], "bin", "callagent")
        check(execs and all(l.split("=", 1)[1].split()[0] == want for l in execs),
              f"{unit} starts {want}", want, execs)


if __name__ == "__main__":
    run_cases(setup, teardown)
