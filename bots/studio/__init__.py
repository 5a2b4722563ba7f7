"""`bots studio`: a local web app where organisers edit, check, try and translate the flows.

The files stay the truth: the studio reads them, checks what is typed against the project as
`bots check` does (without writing it), and writes a file only when asked. Its panes reuse
the command-line tools: the engine of `bots chat`, the drawing of `bots graph`, the runner and
coverage of `bots test`, and the Babel catalogs of `bots i18n`. Every asset (CodeMirror 6,
Mermaid) is shipped in `static/`: no network, no build step at run time.
"""

from bots.studio.server import make_app, serve

__all__ = ["make_app", "serve"]
