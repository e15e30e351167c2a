"""Project URLs from the one place that holds the repository's address ([tool.labkit] in pyproject.toml).

Everything else about the package is declared in pyproject.toml; `urls` is dynamic there
because the address may be unset (then the package has no project URLs).
"""

from pathlib import Path

from setuptools import setup

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def project_urls() -> dict[str, str]:
    config = tomllib.loads((Path(__file__).parent / "pyproject.toml").read_text())
    repository = config.get("tool", {}).get("labkit", {}).get("repository", "").strip().rstrip("/")
    if not repository:
        return {}
    return {"Repository": repository, "Issues": f"{repository}/issues"}


setup(project_urls=project_urls())
