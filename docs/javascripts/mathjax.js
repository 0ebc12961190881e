// MathJax 3, served by the site itself (docs/hooks/site.py copies it from a PyPI package).
// Typesets the formulas that pymdownx.arithmatex marks (\( \) and \[ \] in
// span/div.arithmatex) and the $...$ / $$...$$ of the notebooks' Markdown cells
// (inside .jupyter-wrapper); nothing else on a page (a $ in prose stays a $).
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex|jp-MarkdownCell|jp-RenderedMarkdown",
  },
  svg: { fontCache: "global" },
};
