"""A public-awareness chatbot on personal-information protection.

The package is layered: the core (knowledge, normalising text, embeddings, the
index, retrieval) knows nothing of the services (answering, checking), and the
adapters (command line, terminal chat, Telegram) only translate. `bot.app`
is the one place that wires them together.
"""

__version__ = "0.1.0"
