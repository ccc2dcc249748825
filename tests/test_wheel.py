"""The built wheel, installed into a fresh venv, is a working paperbundle: the package
`paperbundle` (no top-level `builder`), its fonts, the licences, the console script and
`python -m paperbundle`, building a bundle from another directory."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.pdfs import make_paper

ROOT = Path(__file__).resolve().parent.parent
NETWORK_HINTS = (
    "NewConnectionError",
    "Temporary failure in name resolution",
    "No matching distribution",
)


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    p = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)])
    if p.returncode != 0 and any(h in p.stderr for h in NETWORK_HINTS):
        pytest.skip(f"cannot fetch the build backend: {p.stderr[-300:]}")
    assert p.returncode == 0, p.stderr
    (whl,) = dist.glob("paperbundle-*.whl")
    return whl


def test_wheel_holds_the_package_fonts_and_licences(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "paperbundle/__init__.py" in names and "paperbundle/__main__.py" in names
    assert not [n for n in names if n.startswith("builder/")], "a top-level 'builder' package"
    for font in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "wqy-microhei.ttc"):
        assert f"paperbundle/fonts/{font}" in names, font
    licences = [n for n in names if ".dist-info/licenses/" in n]
    assert any(n.endswith("/licenses/LICENSE") for n in licences), licences
    for lic in ("LICENSE-DejaVu.txt", "LICENSE-WenQuanYi-MicroHei.txt", "LICENSE-Apache-2.0.txt"):
        assert any(n.endswith(lic) for n in licences), (lic, licences)
    (meta,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    text = zipfile.ZipFile(wheel).read(meta).decode()
    assert "License-Expression: MIT" in text and "License-File: LICENSE" in text


def test_wheel_installs_into_a_fresh_venv_and_builds_from_elsewhere(
    wheel: Path, tmp_path: Path
) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py, script = env_dir / "bin" / "python", env_dir / "bin" / "paperbundle"
    p = _run([str(py), "-m", "pip", "install", "-q", str(wheel)])
    if p.returncode != 0 and any(h in p.stderr for h in NETWORK_HINTS):
        pytest.skip(f"package index unreachable: {p.stderr[-300:]}")
    assert p.returncode == 0, p.stderr

    p = _run([str(script), "--help"])
    assert p.returncode == 0 and "build" in p.stdout and "import" in p.stdout, p.stderr
    p = _run([str(py), "-m", "paperbundle", "--version"])
    assert p.returncode == 0 and p.stdout.startswith("paperbundle "), p.stderr

    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "a.pdf").write_bytes(make_paper("Local A", 2))
    (work / "b.pdf").write_bytes(make_paper("Local B", 1))
    (work / "m.toml").write_text(
        'bundle = { name = "wheel-test", version = "v1", title = "从轮子安装" }\n'
        '[[papers]]\nkey = "a"\ntitle = "Ελληνικά and English"\npath = "a.pdf"\n'
        '[[papers]]\nkey = "b"\ntitle = "中文标题"\npath = "b.pdf"\n',
        encoding="utf-8",
    )
    p = _run([str(script), "build", "m.toml", "--cache-dir", "cache", "--quiet"], cwd=work)
    assert p.returncode == 0, p.stderr
    pdf = work / "output" / "wheel-test-v1.pdf"
    reader = PdfReader(pdf)
    assert len(reader.pages) == 2 + 3  # cover, contents, then the papers
    fonts = set()
    for page in reader.pages[:2]:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts.add(str(font["/BaseFont"]).split("+")[-1])
            assert "/FontFile2" in font["/FontDescriptor"].get_object()
    assert {"DejaVuSans", "WenQuanYiMicroHei-0"} <= fonts, fonts  # Latin and Greek; CJK
    assert "中文标题" in reader.pages[1].extract_text()
    assert not (ROOT / "output" / "wheel-test-v1.pdf").exists()
