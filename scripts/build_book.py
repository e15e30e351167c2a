"""Build the lab's book (Jupyter Book 1.x) from the notebooks' committed outputs.

    bash scripts/build_book.sh                  # what `make book` runs
    .venv/bin/python scripts/build_book.py [--notebooks DIR] [--build-dir DIR] [--incremental]

Nothing is executed: every chapter shows the outputs saved in its notebook (and the widget
state that scripts/run_notebook.py stores). Warnings are errors (sphinx-build -W
--keep-going): a broken cross-reference, a missing file or image, an unknown citation or a
notebook without a title fails the build and every such problem is listed.

Why a staging step. The chapters live in notebooks/, not in book/, and Sphinx only reads
files under its source folder. Instead of copying them, the build assembles a source tree
of symbolic links in <build-dir>/src that mirrors the repository:

    src/intro.md, chapters/, references.*   -> links into book/
    src/notebooks/NN_name.ipynb             -> links to notebooks/ (plus their assets)
    src/results/<dataset>/report.md, *.png  -> links to the reproduction report, when present
    src/_toc.yml, _config.yml               book/'s files, with absent chapters left out
    src/_generated/*.md                     the "what the lab found" text, from the report
    src/_static/                            book/_static, and MathJax and the widget renderer
                                            served with the book (no internet needed)

so paths inside notebooks (../results/..., figures next to them) resolve as in the
repository, and the launch buttons' paths (notebooks/NN_name.ipynb) are the repository's.
A chapter whose notebook does not exist yet is left out with a notice; a numbered notebook
that _toc.yml does not list is appended under "More notebooks".

Offline assets: MathJax 2 comes from Debian's libjs-mathjax (/usr/share/javascript/mathjax,
installed by scripts/setup.sh); the ipywidgets renderer (@jupyter-widgets/html-manager) is
fetched once with `npm pack` into book/_build/vendor. When either is unavailable the book
falls back to the public CDN and says so.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import yaml

from sync_repository import repository  # scripts/sync_repository.py: the one address

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
MATHJAX_SYSTEM = Path("/usr/share/javascript/mathjax")
# The parts of MathJax 2 that the book's configuration loads (TeX input, CommonHTML output).
MATHJAX_PARTS = (
    "MathJax.js",
    "config/TeX-AMS_CHTML.js",
    "extensions",
    "jax/input/TeX",
    "jax/element",
    "jax/output/CommonHTML",
    "fonts/HTML-CSS/TeX/woff",
)
HTML_MANAGER = "@jupyter-widgets/html-manager@1.0.15"  # the renderer matching ipywidgets 8
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@2.7.9/MathJax.js"
NOTEBOOK_RE = re.compile(r"^\d\d_[A-Za-z0-9_]+\.ipynb$")
SOURCE_SUFFIXES = (".md", ".ipynb", ".rst")
ASSET_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp", ".csv", ".json")


def say(message: str) -> None:
    print(f"[book] {message}", flush=True)


# --------------------------------------------------------------------------- staging


def _link(target: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target.resolve())


def _toc_files(entries) -> list[str]:
    """Every `file:` named in a _toc.yml subtree, in order."""
    found = []
    if isinstance(entries, dict):
        found += [entries[key] for key in ("root", "file") if key in entries]
        for key in ("parts", "chapters", "sections"):
            found += _toc_files(entries.get(key, []))
    elif isinstance(entries, list):
        for item in entries:
            found += _toc_files(item)
    return found


def _exists(src: Path, docname: str) -> bool:
    return any((src / f"{docname}{suffix}").exists() for suffix in SOURCE_SUFFIXES)


def filter_toc(toc: dict, src: Path, extra_notebooks: list[str], reports: list[str]) -> tuple[dict, list[str]]:
    """Drop toc entries whose source is absent; returns (toc, notes).

    A chapter page whose notebook sections are all absent is dropped with them: a chapter
    without its notebook would be an empty promise. Reports found under results/ become
    sections of the `results` page; extra numbered notebooks go into a part before the back matter.
    """
    toc = copy.deepcopy(toc)
    notes: list[str] = []
    missing: list[str] = []

    def keep(entry: dict) -> bool:
        if "sections" in entry:
            entry["sections"] = [s for s in entry["sections"] if keep(s)]
            if not entry["sections"]:
                del entry["sections"]
                if entry["file"].startswith("chapters/"):
                    return False  # a chapter's opening page goes with its notebook
        if not _exists(src, entry["file"]):
            missing.append(entry["file"])
            return False
        if entry["file"] == "results" and reports:
            entry.setdefault("sections", []).extend({"file": r} for r in reports)
        return True

    for part in toc.get("parts", []):
        part["chapters"] = [c for c in part["chapters"] if keep(c)]
    toc["parts"] = [p for p in toc.get("parts", []) if p["chapters"]]
    if missing:
        notes.append("left out, not written yet: " + ", ".join(missing))
    if extra_notebooks:
        notes.append("not in book/_toc.yml, appended under 'More notebooks': " + ", ".join(extra_notebooks))
        toc["parts"].insert(len(toc["parts"]) - 1 if toc["parts"] else 0,
                            {"caption": "More notebooks", "chapters": [{"file": f} for f in extra_notebooks]})
    return toc, notes


def stage_notebooks(notebooks: Path, src: Path, listed: set[str]) -> tuple[list[str], list[str]]:
    """Link chapter notebooks and their assets into src/notebooks; returns (extra, excluded)."""
    dst = src / "notebooks"
    dst.mkdir(parents=True, exist_ok=True)
    extra, excluded = [], []
    if not notebooks.is_dir():
        return extra, excluded
    for entry in sorted(notebooks.iterdir()):
        name = entry.name
        if name.startswith(".") or name in ("__pycache__", ".ipynb_checkpoints"):
            continue
        docname = f"notebooks/{entry.stem}"
        if entry.is_file() and entry.suffix in SOURCE_SUFFIXES:
            if docname in listed:
                _link(entry, dst / name)
            elif entry.suffix == ".ipynb" and NOTEBOOK_RE.match(name):
                _link(entry, dst / name)
                extra.append(docname)
            else:
                excluded.append(name)  # a README or a scratch notebook: not a page of the book
        else:
            _link(entry, dst / name)  # figures, data files, folders of assets
    return extra, excluded


def stage_reports(results: Path, src: Path) -> list[str]:
    """Link results/<dataset>/report.md and its figures; returns the report docnames."""
    reports = []
    if not results.is_dir():
        return reports
    order = sorted(results.iterdir(), key=lambda p: (p.name != "mnist", p.name))
    for folder in order:
        report = folder / "report.md"
        if not report.is_file():
            continue
        for item in folder.iterdir():
            if item == report or (item.is_file() and item.suffix.lower() in ASSET_SUFFIXES):
                _link(item, src / "results" / folder.name / item.name)
        reports.append(f"results/{folder.name}/report")
    return reports


def _sections(markdown: str) -> dict[str, str]:
    """Level-2 sections of a Markdown file: {heading: body}."""
    out: dict[str, str] = {}
    heading = None
    for line in markdown.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            out[heading] = ""
        elif heading is not None:
            out[heading] += line + "\n"
    return out


def write_generated(src: Path, reports: list[str]) -> None:
    """The report-dependent text that intro.md and results.md include."""
    gen = src / "_generated"
    gen.mkdir(parents=True, exist_ok=True)
    if not reports:
        absent = (
            "The full-MNIST runs have not been made in this copy of the lab yet, so this page has "
            "no measurements to show. `make reproduce` trains every rule, evaluates it, and "
            "writes `results/mnist/report.md`; the next `make book` shows it here. The "
            "chapters show live results on the bundled subset of MNIST in the meantime.\n"
        )
        (gen / "findings.md").write_text(absent)
        (gen / "report_status.md").write_text(absent)
        return
    main = reports[0]  # MNIST's when there is one (stage_reports puts it first)
    text = (src / f"{main}.md").read_text()
    sections = _sections(text)
    where = "on full MNIST" if main == "results/mnist/report" else f"on {main.split('/')[1]}"
    findings = [f"Measured by the lab {where}. Every table and figure is in "
                f"{{doc}}`the reproduction report <{main}>`.\n"]
    for key, body in sections.items():
        if key.startswith("Table I") or key.startswith("Verdicts"):
            findings.append(f"### {key}\n\n{body.strip()}\n")
    (gen / "findings.md").write_text("\n".join(findings))
    links = "\n".join(f"- {{doc}}`{r}`" for r in reports)
    (gen / "report_status.md").write_text(f"The reports written so far:\n\n{links}\n")


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


def vendor_mathjax(vendor: Path) -> Path | None:
    """The MathJax subset the book needs, copied once from libjs-mathjax; None if absent."""
    dst = vendor / "mathjax"
    if (dst / "MathJax.js").is_file():
        return dst
    if not (MATHJAX_SYSTEM / "MathJax.js").is_file():
        return None
    tmp = Path(tempfile.mkdtemp(prefix=".mathjax.", dir=vendor))
    for part in MATHJAX_PARTS:
        source, target = MATHJAX_SYSTEM / part, tmp / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, symlinks=False)
        else:
            shutil.copy2(source, target)
    tmp.rename(dst)
    return dst


def vendor_html_manager(vendor: Path) -> Path | None:
    """@jupyter-widgets/html-manager's dist/ (the static widget renderer); None if unobtainable."""
    dst = vendor / HTML_MANAGER.rsplit("/", 1)[-1]  # html-manager@<version>: a new pin fetches anew
    if (dst / "embed.js").is_file():
        return dst
    npm = shutil.which("npm")
    if npm is None:
        return None
    with tempfile.TemporaryDirectory(dir=vendor) as tmp:
        try:
            out = _run([npm, "pack", "--silent", HTML_MANAGER], cwd=tmp, capture_output=True, text=True)
        except subprocess.CalledProcessError as exc:
            say(f"npm pack {HTML_MANAGER} failed: {exc.stderr.strip()[-300:]}")
            return None
        tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
        staging = Path(tmp) / "dist"
        staging.mkdir()
        with tarfile.open(tarball) as tar:
            for member in tar.getmembers():
                name = member.name
                if not name.startswith("package/dist/") or name.endswith(".map") or "amd" in name:
                    continue
                if not member.isfile():
                    continue
                member.name = name[len("package/dist/"):]
                tar.extract(member, staging, filter="data")
        if not (staging / "embed.js").is_file():
            return None
        staging.rename(dst)
    return dst


def set_repository(config: dict, url: str) -> list[str]:
    """Launch buttons, the repository button and the widget note follow the one address (or its absence)."""
    config.setdefault("repository", {})["url"] = url
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx["labkit_repository"] = url
    if url:
        return []
    html = config.setdefault("html", {})
    html["use_repository_button"] = html["use_issues_button"] = html["use_edit_page_button"] = False
    launch = config.setdefault("launch_buttons", {})
    launch["binderhub_url"] = launch["colab_url"] = launch["jupyterhub_url"] = ""
    launch["thebe"] = False
    return ["no public repository address ([tool.labkit] repository in pyproject.toml is empty): the book has no "
            "Binder or Colab launch buttons and no repository link; set it to add them"]


def make_config(book_config: dict, *, mathjax: bool, widgets: bool, exclude: list[str]) -> tuple[dict, list[str]]:
    config = copy.deepcopy(book_config)
    notes = []
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    if not mathjax:
        sphinx["mathjax_path"] = MATHJAX_CDN
        notes.append("libjs-mathjax not found: equations load MathJax from the CDN "
                     "(install it with `sudo apt-get install libjs-mathjax` for an offline book)")
    if not widgets:
        sphinx.pop("nb_ipywidgets_js", None)
        notes.append("npm or the registry unavailable: widgets load their renderer from the CDN")
    notes += set_repository(config, repository())
    config["exclude_patterns"] = list(config.get("exclude_patterns", [])) + exclude
    return config, notes


def stage(src: Path, vendor: Path, notebooks: Path, results: Path) -> list[str]:
    """Assemble the Sphinx source tree in src; returns notes to print."""
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    vendor.mkdir(parents=True, exist_ok=True)
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    book_config = yaml.safe_load((BOOK / "_config.yml").read_text())
    listed = set(_toc_files(toc))

    for entry in BOOK.iterdir():
        if entry.name in ("_build", "_config.yml", "_toc.yml", "_static") or entry.name.startswith("."):
            continue
        _link(entry, src / entry.name)
    static = src / "_static"
    static.mkdir()
    for entry in (BOOK / "_static").iterdir() if (BOOK / "_static").is_dir() else ():
        _link(entry, static / entry.name)
    extra, excluded = stage_notebooks(notebooks, src, listed)
    reports = stage_reports(results, src)
    docs = ROOT / "docs"
    if docs.is_dir():
        for item in docs.iterdir():
            if item.is_file() and item.suffix.lower() in (*ASSET_SUFFIXES, ".md"):  # .md: pages that include them
                _link(item, src / "docs" / item.name)
    write_generated(src, reports)

    mathjax = vendor_mathjax(vendor)
    if mathjax:
        _link(mathjax, static / "mathjax")
    widgets = vendor_html_manager(vendor)
    if widgets:
        _link(widgets, static / "widgets")

    toc, notes = filter_toc(toc, src, extra, reports)
    config, config_notes = make_config(
        book_config, mathjax=mathjax is not None, widgets=widgets is not None,
        exclude=[f"notebooks/{name}" for name in excluded] + ["notebooks/*/**", "docs/**"],
    )
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False, allow_unicode=True))
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return notes + config_notes


def _unstage(line: str, src: Path, notebooks: Path) -> str:
    """Point a Sphinx message at the real file: notebooks/NN.ipynb (cell k) or book/..., not src/."""

    def notebook(match: re.Match) -> str:
        cell = int(match.group(2)) // 10000  # myst-nb numbers notebook lines (cell index + 1) * 10000 + line
        return f"{notebooks / match.group(1)} (cell {cell}):"

    line = re.sub(re.escape(str(src / "notebooks")) + r"/([^:]+\.ipynb):(\d+):", notebook, line)
    return line.replace(str(src / "notebooks"), str(notebooks)).replace(str(src), str(BOOK))


def build(build_dir: Path, notebooks: Path, results: Path, *, strict: bool = True, fresh: bool = True,
          vendor: Path | None = None) -> int:
    """Stage and build; returns sphinx-build's exit status (0: built without warnings)."""
    src, html, doctrees = build_dir / "src", build_dir / "html", build_dir / ".doctrees"
    for note in stage(src, vendor or BOOK / "_build" / "vendor", notebooks, results):
        say(note)
    bindir = Path(sys.executable).parent
    jb = shutil.which("jupyter-book", path=str(bindir)) or shutil.which("jupyter-book")
    if jb is None:
        say("jupyter-book is not installed: run `make setup` (it installs jupyter-book==1.0.4.post1)")
        return 2
    _run([jb, "config", "sphinx", str(src)], stdout=subprocess.DEVNULL)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-d", str(doctrees), "-q"]
    if strict:
        cmd += ["-W", "--keep-going"]
    if fresh:
        cmd += ["-E"]
    cmd += [str(src), str(html)]
    say("building " + str(html.relative_to(ROOT) if html.is_relative_to(ROOT) else html))
    env = dict(os.environ)  # book/_ext holds the book's own small Sphinx extension
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src / "_ext"), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        print(_unstage(line.rstrip("\n"), src, notebooks), flush=True)
    if proc.wait() != 0:
        say("the build failed: see the warnings above (each names the file and the notebook cell)")
        return proc.returncode
    say(f"done: open {html / 'index.html'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="folder of chapter notebooks")
    parser.add_argument("--results", type=Path, default=ROOT / "results", help="folder with <dataset>/report.md")
    parser.add_argument("--build-dir", type=Path, default=BOOK / "_build", help="where src/ and html/ go")
    parser.add_argument("--vendor-dir", type=Path, default=BOOK / "_build" / "vendor",
                        help="cache of the book's third-party JavaScript")
    parser.add_argument("--incremental", dest="fresh", action="store_false",
                        help="re-read only changed pages (faster, but warnings of unchanged pages are not repeated)")
    parser.add_argument("--no-strict", dest="strict", action="store_false", help="warnings are not errors")
    args = parser.parse_args(argv)
    return build(args.build_dir.resolve(), args.notebooks.resolve(), args.results.resolve(),
                 strict=args.strict, fresh=args.fresh, vendor=args.vendor_dir.resolve())


if __name__ == "__main__":
    sys.exit(main())
