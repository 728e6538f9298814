"""Core: what every layer shares and that needs nothing from Lodestar itself: `settings`,
`errors`, `logs`, `offline`, `prompts` (the prompt files, loaded by name), `text` (how a citation
is written, where a sentence ends, how a passage is named) and `refusal` (the "not covered" text
and its detection). It imports no other Lodestar package.
"""
