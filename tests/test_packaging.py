"""Launching the lab anywhere (#35): pip install outside the repository, setup without root,
the conda environment's pins, the one repository address and the chapters' install cell."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import sync_repository  # noqa: E402  (scripts/sync_repository.py)

#: What an installed labkit is built from: the package and the files pyproject.toml names.
PACKAGE_FILES = ("pyproject.toml", "setup.py", "README.md", "LICENSE")


def _copy_checkout(dst: Path) -> Path:
    """The files `pip install <checkout>` reads, copied (so the build writes nothing into the repository)."""
    dst.mkdir()
    for name in PACKAGE_FILES:
        shutil.copy2(ROOT / name, dst / name)
    shutil.copytree(ROOT / "labkit", dst / "labkit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dst


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment outside the repository with labkit pip-installed (not editable).

    Nothing comes from the network: the environment sees the dependencies of .venv through a .pth
    line (a path added that way is searched but its .pth files, among them the editable install's
    finder, are not run), and labkit goes in with --no-deps --no-build-isolation."""
    tmp = tmp_path_factory.mktemp("pip")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(subprocess.run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    (purelib / "zz_labkit_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    checkout = _copy_checkout(tmp / "checkout")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", "--no-build-isolation", "--no-index", str(checkout)],
                   check=True, capture_output=True, text=True)
    shutil.rmtree(checkout)  # the installed copy must stand on its own
    return venv


def _run_installed(venv: Path, args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABKIT_", "PYTHONPATH", "VIRTUAL_ENV"))}
    env.update(HOME=str(cwd), XDG_DATA_HOME=str(cwd / "xdg"), OMP_NUM_THREADS="1", PATH=f"{venv / 'bin'}:{env['PATH']}")
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, **kwargs)


@pytest.mark.slow
def test_pip_installed_labkit_trains_on_the_bundled_digits_from_another_folder(installed, tmp_path):
    """#35 acceptance: `pip install <checkout>` into a fresh venv, then the train command from elsewhere."""
    where = _run_installed(installed, ["python", "-c", "import labkit, labkit.data as d; print(labkit.__file__); "
                                       "print(d.bundled_file())"], tmp_path, check=True).stdout.split()
    assert all(str(installed) in line for line in where), f"labkit and its digits come from the install: {where}"
    run = _run_installed(installed, ["labkit", "train", "--source", "bundled", "--epochs", "1", "--train-limit", "500"],
                         tmp_path, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"test accuracy 0\.\d+ after 1 epochs", run.stdout), run.stdout
    assert not (tmp_path / "xdg").exists() or not any((tmp_path / "xdg").rglob("*.npz")), "nothing was fetched"


@pytest.mark.slow
def test_pip_installed_student_command_says_it_needs_the_notebooks(installed, tmp_path):
    run = _run_installed(installed, ["labkit", "student"], tmp_path)
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr
    assert "--source" in run.stderr and "repository" in run.stderr, "it says where the chapters come from"
    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks, ignore=shutil.ignore_patterns("*.ipynb_checkpoints"))
    run = _run_installed(installed, ["labkit", "student", "--source", str(notebooks), "--out", "work"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "work").glob("*.ipynb")) == sorted(p.name for p in notebooks.glob("*.ipynb"))


def test_wheel_carries_the_digits_and_the_licence_and_no_lab_tools(tmp_path):
    """The bundled subset is package data; JupyterLab and Voilà are extras, not requirements."""
    checkout = _copy_checkout(tmp_path / "checkout")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(tmp_path / "dist"), str(checkout)], check=True, capture_output=True, text=True)
    (wheel,) = (tmp_path / "dist").glob("labkit-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "labkit/data/bundled/mnist-mini.npz" in names, "the bundled digits ship inside the wheel"
    assert any(n.endswith("licenses/LICENSE") or n.endswith("/LICENSE") for n in names), "the licence ships"
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    runtime = [r for r in requires if "extra ==" not in r]
    assert not [r for r in runtime if re.match(r"(jupyterlab|voila|pytest|nbval|jupyter-book|playwright)\b", r)], runtime
    assert any("jupyterlab" in r and 'extra == "lab"' in r for r in requires), "JupyterLab is the [lab] extra"
    assert any("voila" in r and 'extra == "demo"' in r for r in requires), "Voilà is the [demo] extra"
    url = sync_repository.repository()
    urls = [line for line in metadata.splitlines() if line.startswith("Project-URL:")]
    assert urls == ([f"Project-URL: Repository, {url}", f"Project-URL: Issues, {url}/issues"] if url else []), urls


# --------------------------------------------------------------------------- the one address


def test_no_placeholder_address_anywhere_people_click():
    """#35: `YOUR-ORG/labkit` made 21 dead links; the address now lives in one place ([tool.labkit])."""
    paths = [ROOT / p for p in ("README.md", "CITATION.cff", "pyproject.toml", "environment.yml")]
    paths += sorted((ROOT / "book").rglob("*.yml")) + sorted((ROOT / "book").rglob("*.md"))
    paths += sorted((ROOT / "binder").glob("*")) + sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        text = path.read_text()
        assert "YOUR-ORG" not in text and "ORG/REPO" not in text, f"{path} holds a placeholder address"


def test_every_chapter_opens_with_the_install_cell_the_script_writes():
    """The first code cell installs labkit only when `import labkit` fails (Colab); it is what
    scripts/sync_repository.py writes now (so the script has been run since the address changed)."""
    expected = sync_repository.install_cell_source(sync_repository.repository())
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert first.source == expected, f"{path.name}: the install cell is missing or stale (run scripts/sync_repository.py)"
        assert first.outputs == [], f"{path.name}: labkit is installed where the chapter ran, so the cell printed nothing"
        assert sync_repository.INSTALL_TAG in first.metadata.get("tags", []), path.name


def test_install_cell_script_is_idempotent(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("x = 1")])
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)
    assert sync_repository.write_install_cell(path, "https://example.org/lab") is True
    first = path.read_text()
    assert sync_repository.write_install_cell(path, "https://example.org/lab") is False, "a second run changes nothing"
    assert path.read_text() == first
    cells = nbformat.read(path, as_version=4).cells
    assert [c.cell_type for c in cells] == ["markdown", "code", "code"], "one cell inserted after the title"
    assert "git+https://example.org/lab" in cells[1].source
    sync_repository.write_install_cell(path, "")
    cells = nbformat.read(path, as_version=4).cells
    assert len(cells) == 3 and "git+" not in cells[1].source, "updated in place; unset address: no git URL"


def test_install_cell_does_nothing_where_labkit_imports():
    """Executed where labkit is installed, the cell prints nothing and installs nothing."""
    out = subprocess.run([sys.executable, "-c", sync_repository.install_cell_source("https://example.org/lab")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == "", out


# --------------------------------------------------------------------------- Binder


def test_binder_writes_the_student_edition_with_cpu_torch():
    requirements = (ROOT / "binder" / "requirements.txt").read_text()
    assert "download.pytorch.org/whl/cpu" in requirements and re.search(r"^torch==2\.13\.0", requirements, re.M)
    post = (ROOT / "binder" / "postBuild").read_text()
    assert '".[lab,demo]"' in post, "labkit, JupyterLab and Voilà from the repository itself"
    assert os.access(ROOT / "binder" / "postBuild", os.X_OK), "postBuild must be executable"
    assert "labkit student" in post and "--out" in post, "the student edition is written, not the instructor's"


# --------------------------------------------------------------------------- no root for students

HIDDEN = {"chromium", "chromium-driver", "chromedriver", "pg_ctl", "psql", "npm", "apt-get", "apt", "sudo"}


def _path_without_system_packages(tmp: Path) -> tuple[str, Path]:
    """PATH with recording fakes of apt-get, apt and sudo first, then every usual command except
    chromium, PostgreSQL and npm (a machine where they are absent); returns (PATH, the record)."""
    record = tmp / "apt-calls"
    fakes, farm = tmp / "fakes", tmp / "bin"
    fakes.mkdir()
    farm.mkdir()
    for name in ("apt-get", "apt", "sudo"):
        (fakes / name).write_text(f'#!/bin/sh\necho "{name} $*" >> {record}\n')
        (fakes / name).chmod(0o755)
    for folder in map(Path, os.environ["PATH"].split(os.pathsep)):
        if not folder.is_dir() or folder == Path(sys.executable).parent:
            continue
        for tool in folder.iterdir():
            if tool.name not in HIDDEN and not (farm / tool.name).exists():
                (farm / tool.name).symlink_to(tool)
    return f"{fakes}{os.pathsep}{farm}", record


def _stub_checkout(tmp: Path) -> Path:
    """scripts/setup.sh in a copy of the repository whose .venv is a stub that records its calls
    (so no pip install or download happens): the script's own logic runs, nothing else."""
    repo = tmp / "repo"
    (repo / "scripts").mkdir(parents=True)
    for name in ("scripts/setup.sh", "scripts/system_packages.sh", "pyproject.toml", "Makefile"):
        shutil.copy2(ROOT / name, repo / name)
    (repo / ".venv" / "bin").mkdir(parents=True)
    for name in ("python", "labkit"):
        stub = repo / ".venv" / "bin" / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> {tmp / "venv-calls"}\n')
        stub.chmod(0o755)
    return repo


def test_lab_setup_installs_no_system_package_where_chromium_and_postgres_are_absent(tmp_path):
    """#35: `make lab` installed chromium and PostgreSQL as root, though only the tests need them."""
    path, record = _path_without_system_packages(tmp_path)
    repo = _stub_checkout(tmp_path)
    env = {**os.environ, "PATH": path, "LABKIT_SKIP_LAVA": "1", "LABKIT_PYTHON": str(repo / ".venv" / "bin" / "python")}
    out = subprocess.run(["bash", "scripts/setup.sh"], cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ready:" in out.stdout
    assert not record.exists(), f"setup called: {record.read_text()}"
    for target in ("lab", "lab-instructor", "demo", "student", "setup", "book"):
        plan = subprocess.run(["make", "-n", target], cwd=repo, env=env, capture_output=True, text=True).stdout
        assert "system_packages" not in plan and "apt-get" not in plan, f"make {target} would install system packages"


def test_make_test_still_installs_the_test_suites_system_packages_as_root(tmp_path):
    """CI runs `make test` as root on a fresh clone: the browser and PostgreSQL tests need these."""
    if os.geteuid() != 0:
        pytest.skip("the apt-get path runs only as root")
    path, record = _path_without_system_packages(tmp_path)
    repo = _stub_checkout(tmp_path)
    plan = subprocess.run(["make", "-n", "test"], cwd=repo, capture_output=True, text=True).stdout
    assert plan.index("system_packages.sh") < plan.index("setup.sh") < plan.index("test.sh"), plan
    out = subprocess.run(["bash", "scripts/system_packages.sh"], cwd=repo, env={**os.environ, "PATH": path},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    installed = record.read_text()
    expected = ["chromium", "chromium-driver", "npm"]
    if not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):  # pg_ctl off PATH is found there too
        expected.append("postgresql")
    for package in expected:
        assert re.search(rf"apt-get install .*\b{package}\b", installed), installed


# --------------------------------------------------------------------------- environment.yml

TEST_TOOLS = ("pytest", "nbval", "nbclient", "jupyter-book", "playwright", "psycopg2-binary")
NOT_PYTHON = {"python", "pip", "nodejs"}


def _split(spec: str) -> tuple[str, set[str]]:
    """'numpy>=1.24,<2' -> ('numpy', {'>=1.24', '<2'})."""
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*$", spec)
    name, rest = match.group(1).lower().replace("_", "-"), match.group(2)
    return name, {c.replace(" ", "") for c in rest.split(",") if c.strip()}


def _environment_specs() -> dict[str, set[str]]:
    import yaml

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs = {}
    for item in env["dependencies"]:
        entries = item["pip"] if isinstance(item, dict) else [item]
        for entry in entries:
            if entry.startswith("-"):
                continue
            name, clauses = _split(entry.replace("=", "==", 1) if re.match(r"^[\w-]+=[^=]", entry) else entry)
            if name not in NOT_PYTHON:
                specs[name] = clauses
    return specs


def _tested_pins() -> dict[str, set[str]]:
    """What `make setup` tests: pyproject's runtime, [lab] and [demo] requirements, then setup.sh's exact pins."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = config["project"]
    pins: dict[str, set[str]] = {}
    for spec in project["dependencies"] + project["optional-dependencies"]["lab"] + project["optional-dependencies"]["demo"]:
        name, clauses = _split(spec)
        pins[name] = clauses
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    for spec in re.findall(r'"([A-Za-z][\w.\-]*(?:==|<)[\w.]+)"', setup):
        name, clauses = _split(spec)
        if any(c.startswith("==") for c in clauses):
            pins[name] = clauses  # an exact pin replaces the lower bound
        else:
            pins[name] = pins.get(name, set()) | clauses
    return pins


def test_environment_yml_pins_are_the_tested_ones():
    """#35: environment.yml took torch unpinned (the CUDA build) and drifted from the tested versions."""
    env, tested = _environment_specs(), _tested_pins()
    for name, clauses in env.items():
        if name in tested:
            assert clauses == tested[name], f"environment.yml: {name} {sorted(clauses)}, tested {sorted(tested[name])}"
    runtime = {_split(s)[0] for s in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    assert runtime <= set(env), f"runtime requirements missing from environment.yml: {sorted(runtime - set(env))}"
    assert env["torch"] == {"==2.13.0"}, "torch pinned to the tested build"
    assert "download.pytorch.org/whl/cpu" in (ROOT / "environment.yml").read_text(), "torch from the CPU index"
    assert not [t for t in TEST_TOOLS if t in env], "test tools are apart (pip install -e '.[dev]')"


@pytest.mark.slow
def test_environment_yml_requirements_resolve_for_python_3_10(tmp_path):
    """pip's resolver finds every Python requirement of environment.yml for Python 3.10 (each on
    its own, --no-deps: conda resolves the rest; a dry run, nothing is installed)."""
    requirements = [f"{name}{','.join(sorted(clauses))}" for name, clauses in _environment_specs().items()]
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed",
                          "--python-version", "3.10", "--only-binary=:all:", "--report", str(tmp_path / "r.json"),
                          *requirements], capture_output=True, text=True, timeout=600)
    if out.returncode != 0 and re.search(r"Network is unreachable|Temporary failure in name resolution|"
                                         r"Max retries exceeded|NewConnectionError|Failed to establish a new connection", out.stderr):
        pytest.skip("the package index cannot be reached here (offline): environment.yml not resolved")
    assert out.returncode == 0, out.stderr[-3000:]
    found = {item["metadata"]["name"].lower() for item in json.loads((tmp_path / "r.json").read_text())["install"]}
    assert {n.replace("_", "-") for n in found} >= set(_environment_specs()), found
