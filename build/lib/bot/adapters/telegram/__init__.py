"""The Telegram adapter: python-telegram-bot handlers over the services, grouped by feature.

`application.py` is the table of contents (every handler registered in one
place); `browse`, `ask`, `check`, `quiz` and `admin` hold the handlers of one
feature each; `views` renders HTML and keyboards; `context` holds the typed
per-chat state and the bot-wide services; `server` runs polling or the webhook.
"""
