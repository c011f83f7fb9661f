"""Sphinx configuration of the course site, read by ``python -m course_lib site``.

The pages themselves are generated into the build folder by ``course_lib/tooling/site.py``; this file
only says how they are rendered. Everything the site needs is bundled: it must build and be read
with no network (a workshop room, a laptop on a train), so no setting below may load anything remote.
"""

project = "Optimizing Generative Models"
author = "the course maintainers"
copyright = "the course maintainers"

extensions = [
    "myst_nb",  # notebooks and MyST markdown (the same parser Jupyter Book uses)
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static: math renders without a CDN
]

# The committed solutions already carry their cpu-budget outputs; the site shows them as they are.
nb_execution_mode = "off"
# The notebooks have no widgets; without this, a widget state would pull require.js from a CDN.
nb_ipywidgets_js = {}
# A cell's consecutive stream outputs shown as one block, as Jupyter shows them.
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
# The lessons write display math as $$...$$ inside a paragraph, as Jupyter allows; without this MyST
# pairs those dollars wrongly and leaves raw TeX on the page (the site check catches it).
myst_dmath_double_inline = True
# Headings get ids, so the lessons table of contents and links to sections work.
myst_heading_anchors = 3

# The source folder is generated afresh: only the pages listed in the toctree are documents;
# the notebooks offered for download sit in _notebooks/ and are copied, not rendered.
exclude_patterns = ["_notebooks/**"]

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_theme_options = {
    # Launch buttons (Binder, Colab) and repository buttons point off-site and mean nothing offline.
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # pydata-sphinx-theme checks for a newer version online unless told otherwise.
    "check_switcher": False,
}
# The theme's colour mode, set explicitly: left empty, its script logs an error to the console on a first visit.
# Light, because the notebooks' figures have white backgrounds.
html_context = {"default_mode": "light"}
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None

# MathJax's combined builds other than tex-chtml.js (the one mathjax_path names) are never loaded by the
# site: removing them after the extension's copy takes 14 MB (of 24) off the published site.
_MATHJAX_KEEP = "tex-chtml.js"


def _prune_mathjax(app, exc):
    from pathlib import Path

    folder = Path(app.outdir) / "_static" / "mathjax"
    if exc is None and folder.is_dir():
        for path in [*folder.glob("tex-*.js"), *folder.glob("mml-*.js")]:
            if path.name != _MATHJAX_KEEP:
                path.unlink()


def setup(app):
    # sphinx-mathjax-offline only sets mathjax_path and copies files once the build has finished: safe to
    # read sources in parallel, but it does not say so, and Sphinx would read serially (and warn).
    app.extensions["sphinx-mathjax-offline"].parallel_read_safe = True
    app.connect("build-finished", _prune_mathjax, priority=900)
