"""Optional fluent answers from a language model, grounded on the curated entries.

Only `bot.app` imports the modules of this package, and only when LLM_PROVIDER
is set: the default path never loads a language-model integration.
"""


class ModelUnavailable(ValueError):
    """The configured chat model cannot be built (no provider, or its integration is not installed)."""
