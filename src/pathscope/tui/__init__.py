"""The terminal UI (Textual): ``pathscope open RUN``.

A thin client over the run store: screens post queries to thread workers
(``pathscope.store.tui_queries``) and render what comes back.  Importing this
package does not import Textual; ``pathscope.tui.app`` does.
"""
