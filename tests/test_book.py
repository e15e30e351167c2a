"""The book: it builds from the notebooks' committed outputs with no warnings and has every chapter.

The build (scripts/build_book.py, the same as `make book`) runs once per test session into
book/_build/html; tests/test_browser.py loads the pages of the same build in chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from book_support import NOTEBOOKS, ROOT, build_book, build_book_once, toc_chapter_notebooks
from sync_repository import repository  # scripts/ is on sys.path through book_support

# The order the lab teaches in; book/_toc.yml must follow it.
CHAPTERS = [
    "00_welcome", "01_lif_neuron", "02_rate_coding", "03_stdp", "04_surrogate_gradient",
    "05_astdp", "06_ablations", "07_energy", "08_loihi", "09_event_data",
]


@pytest.fixture(scope="module")
def book():
    built = build_book_once()
    if built.returncode != 0:
        pytest.fail("the book does not build (warnings are errors); build log:\n" + built.log[-6000:])
    return built


# --------------------------------------------------------------------------- without building


def test_toc_sequences_the_chapters_in_teaching_order():
    assert toc_chapter_notebooks() == [f"notebooks/{c}" for c in CHAPTERS], (
        "book/_toc.yml should list the ten chapter notebooks from welcome to event data, in order"
    )


def test_every_toc_chapter_has_an_objectives_page():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            if "sections" not in chapter:
                continue
            page = ROOT / "book" / f"{chapter['file']}.md"
            assert page.is_file(), f"{page} (the chapter's opening page) is missing"
            assert "Learning objectives" in page.read_text(), f"{page} states no learning objectives"


def test_all_chapter_notebooks_are_written():
    missing = [c for c in CHAPTERS if not (NOTEBOOKS / f"{c}.ipynb").is_file()]
    assert not missing, ("every chapter of the teaching order has its notebook (the book would leave a missing "
                         "one out without a word): missing " + ", ".join(missing))


def test_staging_leaves_out_absent_chapters_and_appends_unlisted_notebooks(tmp_path: Path):
    src = tmp_path / "src"
    for name in ("intro.md", "results.md", "references.md", "chapters/lif_neuron.md", "chapters/stdp.md",
                 "notebooks/01_lif_neuron.ipynb", "notebooks/10_extra.ipynb", "results/mnist/report.md"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text("")
    toc = {"format": "jb-book", "root": "intro", "parts": [
        {"caption": "A", "chapters": [
            {"file": "chapters/lif_neuron", "sections": [{"file": "notebooks/01_lif_neuron"}]},
            {"file": "chapters/stdp", "sections": [{"file": "notebooks/03_stdp"}]}]},
        {"caption": "B", "chapters": [{"file": "notebooks/09_event_data"}]},
        {"caption": "Back", "chapters": [{"file": "results"}, {"file": "references"}]}]}
    out, notes = build_book.filter_toc(toc, src, ["notebooks/10_extra"], ["results/mnist/report"])
    files = build_book._toc_files(out)
    assert "chapters/stdp" not in files and "notebooks/03_stdp" not in files, "a chapter without its notebook is left out"
    assert [p["caption"] for p in out["parts"]] == ["A", "More notebooks", "Back"], "empty parts vanish, extras go last"
    assert files.index("results/mnist/report") == files.index("results") + 1, "the report is a section of results"
    assert any("03_stdp" in n for n in notes), "leaving a chapter out is announced"


def test_findings_come_from_the_report(tmp_path: Path):
    src = tmp_path / "src"
    report = src / "results" / "mnist" / "report.md"
    report.parent.mkdir(parents=True)
    report.write_text("# Report\n\nintro\n\n## Table I: test accuracy (%)\n\n| a |\n| - |\n| 1 |\n\n"
                      "## Noise\n\nskip me\n\n## Verdicts\n\n- holds\n")
    build_book.write_generated(src, ["results/mnist/report"])
    text = (src / "_generated" / "findings.md").read_text()
    assert "### Table I" in text and "### Verdicts" in text and "- holds" in text
    assert "skip me" not in text, "only Table I and the verdicts are quoted on the first page"
    assert "{doc}`the reproduction report <results/mnist/report>`" in text
    build_book.write_generated(tmp_path / "empty", [])
    assert "make reproduce" in (tmp_path / "empty" / "_generated" / "findings.md").read_text()


# --------------------------------------------------------------------------- the built book


@pytest.mark.slow
def test_book_builds_without_warnings(book):
    warnings = [line for line in book.log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert not warnings, "the build should be clean:\n" + "\n".join(warnings)


@pytest.mark.slow
def test_every_present_chapter_has_its_page_and_objectives(book):
    for docname in book.chapters:
        page = book.page(docname)
        assert page.is_file(), f"{docname}.ipynb exists but the book has no page {page.name}"
        html = page.read_text()
        assert "<h1>" in html or "<h1 " in html, f"{page.name} has no title (the notebook needs a '# Title' cell)"
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            sections = [s["file"] for s in chapter.get("sections", [])]
            if any(s in book.chapters for s in sections):
                assert book.page(chapter["file"]).is_file(), f"{chapter['file']} (objectives) missing from the book"


@pytest.mark.slow
def test_front_and_back_matter(book):
    for name in ("index", "intro", "results", "references"):
        assert book.page(name).is_file(), f"{name}.html is missing"
    references = book.page("references").read_text()
    keys = re.findall(r"^@\w+\{([^,]+),", (ROOT / "book" / "references.bib").read_text(), flags=re.M)
    assert references.count('role="doc-biblioentry"') == len(keys), "the references page lists every entry of references.bib"
    intro = book.page("intro").read_text()
    if (ROOT / "results" / "mnist" / "report.md").is_file():
        assert "results/mnist/report.html" in intro, "the first page links the reproduction report"
        assert book.page("results/mnist/report").is_file()
    else:
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", intro))
        assert "make reproduce" in text, "the first page says how to produce the missing report"


@pytest.mark.slow
def test_pages_load_nothing_from_the_internet(book):
    """Scripts and style sheets are served with the book, so it reads offline."""
    remote = re.compile(r"<(?:script|link)\b[^>]*?(?:src|href)=\"(?:https?:)?//[^\"]+\"[^>]*>")
    for page in book.html.rglob("*.html"):
        tags = [t for t in remote.findall(page.read_text()) if "<link" not in t or "stylesheet" in t]
        assert not tags, f"{page.relative_to(book.html)} loads {tags[0]}"


@pytest.mark.slow
def test_interactive_demos_have_a_static_figure_beside_them(book):
    for docname in book.chapters:
        html = book.page(docname).read_text()
        if "application/vnd.jupyter.widget-view+json" in html:
            assert "<img" in html, f"{docname} has an interactive demo but no static figure for readers"


# --------------------------------------------------------------------------- what readers see (#35)


def test_launch_buttons_follow_the_one_repository_address():
    """With an address the Binder and Colab buttons and the repository link are on; without one they are off."""
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())
    assert not config["repository"]["url"], "the address lives in pyproject.toml, not in book/_config.yml"
    on = build_book.copy.deepcopy(config)
    assert build_book.set_repository(on, "https://github.com/example/labkit") == []
    assert on["repository"]["url"] == "https://github.com/example/labkit"
    assert on["launch_buttons"]["binderhub_url"] and on["launch_buttons"]["colab_url"] and on["html"]["use_repository_button"]
    off = build_book.copy.deepcopy(config)
    (note,) = build_book.set_repository(off, "")
    assert "[tool.labkit] repository" in note, "the build says why the buttons are missing and where to set the address"
    assert not off["launch_buttons"]["binderhub_url"] and not off["launch_buttons"]["colab_url"]
    assert not off["html"]["use_repository_button"]


def test_readme_badges_and_citation_follow_the_address(tmp_path):
    import sync_repository

    badges = sync_repository.badges("https://github.com/example/labkit")
    assert "mybinder.org/v2/gh/example/labkit/main?urlpath=lab/tree/notebooks/00_welcome.ipynb" in badges
    assert "colab.research.google.com/github/example/labkit/blob/main/notebooks/00_welcome.ipynb" in badges
    assert "http" not in sync_repository.badges(""), "no badge without an address"
    citation = tmp_path / "CITATION.cff"
    citation.write_text((ROOT / "CITATION.cff").read_text())
    sync_repository.sync_citation("https://github.com/example/labkit", citation)
    assert 'repository-code: "https://github.com/example/labkit"' in citation.read_text()
    sync_repository.sync_citation("", citation)
    assert "repository-code" not in citation.read_text().replace("# ", "").split("cff-version")[1]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.slow
def test_no_link_to_a_placeholder_address(book):
    """#35: 21 launch and repository links pointed at `YOUR-ORG/labkit`; without a public address
    the book has no launch buttons or repository link at all, and the build says why."""
    url = repository()
    for page in book.html.rglob("*.html"):
        html = page.read_text()
        assert not re.search(r"YOUR-ORG|ORG/REPO|github\.com/(?:your|org)[-_]?", html, re.I), page.name
        if not url:
            launch = re.findall(r'href="(https://(?:mybinder\.org|colab\.research\.google\.com)[^"]*)"', html)
            assert not launch, f"{page.name}: launch links without a repository: {launch[:2]}"
    if not url:
        assert "no public repository address" in book.log, "the build says why the buttons are missing"


@pytest.mark.slow
def test_chapter_6_result_tables_are_html_tables(book):
    """#35: chapter 6's tables (Markdown a cell displays) appeared as raw `| model | paper |` text."""
    if "notebooks/06_ablations" not in book.chapters:
        pytest.skip("chapter 6 not written")
    html = book.page("notebooks/06_ablations").read_text()
    assert "| model | paper" not in html, "no raw Markdown table left"
    tables = re.findall(r"<table\b.*?</table>", html, re.S)
    assert any(re.search(r"<th[^>]*>\s*(?:<p>)?\s*model", t) for t in tables), "Table I is a real table with a header"
    assert len(tables) >= 3, f"the result tables render as tables (found {len(tables)})"


@pytest.mark.slow
def test_readers_see_no_test_markers_and_solutions_say_so(book):
    """#35: 17 `# NBVAL_CHECK_OUTPUT` lines showed; solution toggles read "Show code cell content"."""
    for docname in book.chapters:
        html = book.page(docname).read_text()
        assert "NBVAL_" not in _text(html), f"{docname} shows an nbval marker"
        assert "Show code cell content" not in html, f"{docname}: a toggle does not say what it hides"
    solutions = sum(book.page(d).read_text().count("Show solution") for d in book.chapters)
    assert solutions >= len(book.chapters), "every chapter's solutions are behind 'Show solution'"


@pytest.mark.slow
def test_static_widgets_say_they_need_a_kernel(book):
    for docname in book.chapters:
        html = book.page(docname).read_text()
        views = html.count('<script type="application/vnd.jupyter.widget-view+json">')
        notes = html.count('class="labkit-widget-note"')
        assert notes == views, f"{docname}: {views} widgets, {notes} notes saying they need a kernel"


@pytest.mark.slow
def test_source_paper_is_cited_without_n_d(book):
    for name in ("intro", "references"):
        text = _text(book.page(name).read_text())
        assert "n.d." not in text, f"{name}: the source paper is cited as 'n.d.'"
        assert "Gajbhiye" in text
