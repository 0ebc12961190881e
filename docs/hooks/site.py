"""MkDocs hooks for numnet's site (``mkdocs.yml``: ``hooks:``); not a documentation page.

* The executed notebooks of ``notebooks/`` become pages (rendered by mkdocs-jupyter, which
  only sees files of the site), at ``notebooks/<name>/``; the docs' links to
  ``../notebooks/<name>.ipynb`` (right on GitHub) go to those pages.
* MathJax is served by the site itself, copied from the ``django-static-mathjax`` package
  (a PyPI package of MathJax's files, no Django needed to read them): the site loads nothing
  from a CDN. The SVG output is one file with its fonts inside.
* mkdocs-jupyter's notebook template loads MathJax 2 (and Mermaid, for diagrams) from a
  CDN; those scripts are dropped: the site's MathJax typesets the notebooks too.
* Docstrings are NumPy-doc written for Sphinx: a role such as ``:func:`name``` is shown as
  the code ``name`` (without the role's name before it).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
MATHJAX = "assets/mathjax/tex-svg.js"  # where the site serves it (see mkdocs.yml)

_NOTEBOOK_LINK = re.compile(r"\]\(\.\./notebooks/([\w.-]+\.ipynb)")
_CDN_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
# nbconvert's lab template imports Mermaid from a CDN when a page has a diagram (none has)
_CDN_MERMAID = re.compile(
    r'<script type="module">(?:(?!</script>).)*?jp-Mermaid(?:(?!</script>).)*</script>', re.S
)
_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|mod|data|exc|obj|const):(?=<code>)")


def _mathjax_source() -> Path:
    spec = importlib.util.find_spec("mathjax")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise PluginError(
            "MathJax is not installed: pip install -e '.[docs]' (django-static-mathjax)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "static/mathjax/es5/tex-svg.js"
    if not path.is_file():
        raise PluginError(f"{path}: no such file (django-static-mathjax's layout changed?)")
    return path


@event_priority(100)  # before mkdocs-jupyter's on_files, which wraps the notebooks
def on_files(files, config):
    for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
        # a File with a src_dir (the repository), not File.generated: mkdocs-jupyter's
        # wrapper finds the notebook's path through src_dir
        files.append(
            File(
                f"notebooks/{notebook.name}",
                src_dir=str(ROOT),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    files.append(File.generated(config, MATHJAX, abs_src_path=str(_mathjax_source())))
    return files


def on_page_markdown(markdown, page, config, files):
    if "/" not in page.file.src_uri:  # a page of docs/ itself: ../notebooks is the repo's
        markdown = _NOTEBOOK_LINK.sub(r"](notebooks/\1", markdown)
    return markdown


def on_page_content(html, page, config, files):
    if page.file.src_uri.endswith(".ipynb"):
        html = _CDN_MERMAID.sub("", _CDN_MATHJAX.sub("", html))
    return _ROLE.sub("", html)
