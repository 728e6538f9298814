"""The `lodestar` command line: `main` assembles one module per command group (index, ask/chat,
interview, levels, model, ui, feedback, bench, eval) over the public helpers in `common`
(consoles, settings, services, errors as messages). It may import every layer below it, never
`lodestar.app`.
"""
