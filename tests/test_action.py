"""The GitHub Action (action.yml): its inputs and steps, and its run steps executed here as GitHub
would (expressions resolved, $GITHUB_OUTPUT passed between steps) with `gh` stubbed on PATH."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.pdfs import make_paper, write

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
INPUTS = {"manifest", "version", "build-args", "publish", "allow-partial", "output-dir"}
INPUTS |= {"python-version", "token"}

SPOIL = (  # every checksum in the .sha256 file made wrong
    "import pathlib, re; p = pathlib.Path('output/Demo-v9.9.sha256'); "
    "p.write_text(re.sub('(?m)^[0-9a-f]{64}', '0' * 64, p.read_text()))"
)
needs_sh = pytest.mark.skipif(
    shutil.which("sh") is None or shutil.which("bash") is None, reason="needs sh and bash"
)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def action() -> dict[str, Any]:
    data = load(ROOT / "action.yml")
    assert isinstance(data, dict)
    return data


def step(name_or_id: str) -> dict[str, Any]:
    for s in action()["runs"]["steps"]:
        if name_or_id in (s.get("id"), s.get("name"), s.get("uses")):
            return dict(s)
    raise AssertionError(f"no step {name_or_id}")


def test_action_declares_the_inputs_with_their_defaults() -> None:
    inputs = action()["inputs"]
    assert set(inputs) == INPUTS
    assert inputs["version"]["default"] == "${{ github.ref_name }}"
    assert inputs["token"]["default"] == "${{ github.token }}"
    assert inputs["publish"]["default"] == "true"
    assert inputs["allow-partial"]["default"] == "false"
    assert inputs["manifest"]["default"] == ""
    assert all(i["description"] for i in inputs.values())


def test_action_is_composite_over_release_sh_and_never_splices_inputs_into_scripts() -> None:
    runs = action()["runs"]
    assert runs["using"] == "composite"
    run_steps = [s for s in runs["steps"] if "run" in s]
    assert all(s["shell"] == "bash" for s in run_steps)  # composite run steps must name one
    for s in run_steps:  # inputs go through env, so a crafted input cannot become shell code
        assert "${{" not in s["run"], s["run"]
    main = step("Build, verify, publish")
    assert 'scripts/action.sh" run' in main["run"]
    script = (ROOT / "scripts" / "action.sh").read_text(encoding="utf-8")
    assert 'exec sh "$here/release.sh"' in script
    assert '"$BIN/paperbundle" verify "$zip"' in (ROOT / "scripts/release.sh").read_text()
    install = step("Install paperbundle (this action's own checkout)")
    assert 'pip install -q "$GITHUB_ACTION_PATH"' in install["run"]


def test_action_caches_papers_in_the_folder_the_build_uses_keyed_on_the_lock_file() -> None:
    cache = step("Paper cache")
    assert cache["uses"] == "actions/cache@v4"
    main = step("Build, verify, publish")
    assert cache["with"]["path"] == main["env"]["PAPERBUNDLE_CACHE"]
    assert "hashFiles(steps.prep.outputs.cache-key-file)" in cache["with"]["key"]
    prefix = cache["with"]["key"].split("${{ hashFiles")[0]
    assert cache["with"]["restore-keys"].strip() == prefix
    assert main["env"]["GH_TOKEN"] == "${{ inputs.token }}"
    names = [s.get("name") or s.get("uses") for s in action()["runs"]["steps"]]
    assert names.index("Paper cache") < names.index("Build, verify, publish")


def test_release_workflow_uses_the_local_action_only_for_tags_with_a_manifest() -> None:
    wf = load(ROOT / ".github" / "workflows" / "release.yml")
    assert wf[True]["push"]["tags"] == ["v*"]  # YAML 1.1 reads the key `on` as true
    assert wf["permissions"] == {}
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"contents": "write"}
    check, *later = [s for s in job["steps"] if s.get("uses") != "actions/checkout@v4"]
    assert check["id"] == "tag"
    assert "scripts/tag-has-manifest.sh" in check["run"]
    assert later and all(s["if"] == "steps.tag.outputs.build == 'true'" for s in later)
    assert [s.get("uses") for s in later] == ["./"]


@needs_sh
@pytest.mark.parametrize(("tag", "expected"), [("v9.9", "build=true"), ("v1", "build=false")])
def test_tag_has_manifest(tmp_path: Path, tag: str, expected: str) -> None:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "v9.9.toml").write_text("", encoding="utf-8")
    proc = subprocess.run(
        ["sh", str(ROOT / "scripts" / "tag-has-manifest.sh"), tag],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout == expected + "\n"
    assert ("no bundle" in proc.stderr) == (expected == "build=false")


class Runner:
    """Runs action.yml's run steps in order like the GitHub runner: `${{ }}` resolved from the
    inputs (or their defaults), the github and runner contexts and earlier steps' outputs."""

    def __init__(self, work: Path, inputs: dict[str, str]) -> None:
        self.work = work
        self.temp = work / "runner-temp"
        self.temp.mkdir()
        (self.temp / "paperbundle-venv").mkdir()
        (self.temp / "paperbundle-venv" / "bin").symlink_to(BIN)  # what the install step makes
        defaults = {k: str(v.get("default", "")) for k, v in action()["inputs"].items()}
        self.context: dict[str, str] = {
            "github.ref_name": "v9.9",
            "github.token": "t0ken",
            "github.repository": "lists/papers",
            "runner.temp": str(self.temp),
        }
        for key, value in {**defaults, **inputs}.items():
            self.context[f"inputs.{key}"] = self.resolve(value)
        stub = work / "stub"
        stub.mkdir()
        self.gh_log = work / "gh.log"
        (stub / "gh").write_text(
            "#!/bin/sh\n"
            f'{{ for a; do printf "[%s]" "$a"; done; echo " token=$GH_TOKEN repo=$GH_REPO"; }}'
            f' >> "{self.gh_log}"\n'
            '[ "$1 $2" = "release view" ] && exit 1\nexit 0\n',
            encoding="utf-8",
        )
        (stub / "gh").chmod(0o755)
        self.path = f"{stub}{os.pathsep}{os.environ['PATH']}"

    def resolve(self, text: str) -> str:
        return EXPR.sub(lambda m: self.context[m.group(1)], text)

    def gh_calls(self) -> list[str]:
        return self.gh_log.read_text().splitlines() if self.gh_log.exists() else []

    def run(self) -> subprocess.CompletedProcess[str]:
        proc: subprocess.CompletedProcess[str] | None = None
        for s in action()["runs"]["steps"]:
            if "run" not in s:
                continue
            if s["name"].startswith("Install paperbundle"):
                continue  # the venv is this test run's own (linked above)
            output = self.work / f"output-{s.get('id', 'x')}"
            output.write_text("")
            env = {k: self.resolve(str(v)) for k, v in s.get("env", {}).items()}
            proc = subprocess.run(
                [s["shell"], "-e", "-c", s["run"]],
                cwd=self.work,
                env={
                    "PATH": self.path,
                    "HOME": str(self.work),
                    "GITHUB_ACTION_PATH": str(ROOT),
                    "GITHUB_WORKSPACE": str(self.work),
                    "GITHUB_OUTPUT": str(output),
                    "RUNNER_TEMP": str(self.temp),
                    **env,
                },
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            )
            if proc.returncode != 0:
                return proc
            for line in output.read_text().splitlines():
                key, _, value = line.partition("=")
                self.context[f"steps.{s['id']}.outputs.{key}"] = value
        assert proc is not None
        return proc


def workspace(tmp_path: Path) -> Path:
    if not (BIN / "paperbundle").exists():
        pytest.skip("paperbundle console script not installed beside this python")
    (tmp_path / "manifests").mkdir()
    write(tmp_path / "manifests" / "a.pdf", make_paper("A", 2))
    (tmp_path / "manifests" / "v9.9.toml").write_text(
        '[bundle]\nname = "Demo"\nversion = "v9.9"\ntitle = "Demo Papers"\ndate = 2024-01-01\n'
        '[[papers]]\nkey = "a"\ntitle = "A"\npath = "a.pdf"\n',
        encoding="utf-8",
    )
    return tmp_path


@needs_sh
def test_action_builds_verifies_and_publishes_to_the_tags_release(tmp_path: Path) -> None:
    runner = Runner(workspace(tmp_path), {})
    proc = runner.run()
    assert proc.returncode == 0, proc.stderr
    assert "ok  4 pages, 1 papers" in proc.stdout  # paperbundle verify ran on the zip
    tail = " token=t0ken repo=lists/papers"
    assert runner.gh_calls() == [
        "[release][view][v9.9]" + tail,
        "[release][create][v9.9][--title][Demo Papers v9.9][--notes-file]"
        "[output/Demo-v9.9-notes.md]" + tail,
        "[release][upload][v9.9][output/Demo-v9.9.pdf][output/Demo-v9.9.zip]"
        "[output/Demo-v9.9.sha256][--clobber]" + tail,
    ]
    assert runner.context["steps.prep.outputs.cache-key-file"] == "manifests/v9.9.toml"
    assert (tmp_path / "output" / "Demo-v9.9.zip").is_file()


@needs_sh
def test_action_with_publish_false_builds_and_verifies_without_any_gh_call(
    tmp_path: Path,
) -> None:
    work = workspace(tmp_path)
    (work / "lists").mkdir()
    (work / "manifests" / "v9.9.toml").rename(work / "lists" / "mine.toml")
    (work / "manifests" / "a.pdf").rename(work / "lists" / "a.pdf")
    (work / "lists" / "mine.lock.json").write_text(
        '{"lock_version": 1, "papers": {}}', encoding="utf-8"
    )
    runner = Runner(
        work,
        {"publish": "false", "manifest": "lists/mine.toml", "output-dir": "dist", "token": ""},
    )
    proc = runner.run()
    assert proc.returncode == 0, proc.stderr
    assert "ok  4 pages, 1 papers" in proc.stdout
    assert runner.gh_calls() == []
    assert runner.context["steps.prep.outputs.cache-key-file"] == "lists/mine.lock.json"
    assert sorted(p.name for p in (work / "dist").iterdir() if p.name[0] != ".") == [
        "Demo-v9.9-notes.md",
        "Demo-v9.9.pdf",
        "Demo-v9.9.sha256",
        "Demo-v9.9.zip",
    ]


@needs_sh
def test_action_refuses_a_missing_manifest_and_a_bad_flag(tmp_path: Path) -> None:
    work = workspace(tmp_path)
    missing = Runner(work, {"version": "v7"})
    proc = missing.run()
    assert proc.returncode == 2
    assert "no manifest manifests/v7.toml" in proc.stderr
    (work / "again").mkdir()
    bad = Runner(work / "again", {"publish": "yes", "manifest": "../manifests/v9.9.toml"})
    proc = bad.run()
    assert proc.returncode == 2
    assert "input publish must be true or false, not 'yes'" in proc.stderr
    assert missing.gh_calls() == bad.gh_calls() == []


@needs_sh
def test_a_bundle_that_fails_verify_is_never_published(tmp_path: Path) -> None:
    """A `paperbundle` that builds for real, then spoils the checksum file: verify must stop the
    release before any gh command."""
    work = workspace(tmp_path)
    runner = Runner(work, {})
    spoiling = work / "spoiling-bin"
    spoiling.mkdir()
    (spoiling / "python").symlink_to(BIN / "python")
    (spoiling / "paperbundle").write_text(
        "#!/bin/sh\n"
        f'"{BIN}/paperbundle" "$@" || exit $?\n'
        'if [ "$1" = build ]; then\n'
        f'  "{BIN}/python" -c "{SPOIL}"\n'
        "fi\n",
        encoding="utf-8",
    )
    (spoiling / "paperbundle").chmod(0o755)
    venv_bin = runner.temp / "paperbundle-venv" / "bin"
    venv_bin.unlink()
    venv_bin.symlink_to(spoiling)
    proc = runner.run()
    assert proc.returncode != 0
    assert "paperbundle verify output/Demo-v9.9.zip failed" in proc.stderr
    assert "nothing published" in proc.stderr
    assert runner.gh_calls() == []
