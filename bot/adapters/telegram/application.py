"""The Telegram bot's table of contents: `build_application` registers every handler, in one place.

Handlers only translate between Telegram and the services built in `bot.app`.
Blocking work (embedding, Chroma, jieba) runs in worker threads, never on the
event loop. Message texts are never logged: logs carry pseudonymous ids only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.adapters.telegram import admin, ask, browse, check, quiz
from bot.adapters.telegram.check import CHECK_CAPTION
from bot.adapters.telegram.context import CONTEXT_TYPES, BotServices
from bot.adapters.telegram.limits import UserRateLimit
from bot.adapters.telegram.texts import load_telegram_texts
from bot.app import build_pseudonymizer, open_usage_stats
from bot.core.memory import ChatMemory
from bot.data.templates import PromptError
from bot.settings import file_url_of

if TYPE_CHECKING:
    from bot.app import App
    from bot.settings import Settings


def make_services(app: App, settings: Settings | None = None) -> BotServices:
    """The handlers' services: the parts `bot.app` built, and the adapter's own limits and memory.

    `settings` (default: the app's) may point the bot's own state, the pepper
    and the usage counts, at another data directory than the index's.
    """
    settings = settings or app.settings
    own = settings is app.settings
    pseudonym = app.pseudonymizer if own else build_pseudonymizer(settings)
    texts = load_telegram_texts(settings.prompts_dir)
    unknown = [t for t in texts.start_topics if t not in app.kb.topics]
    if unknown:
        raise PromptError(
            f"{settings.prompts_dir / 'telegram.yaml'}: start_topics names unknown topics {unknown}"
        )
    return BotServices(
        answers=app.answerer,
        checker=app.checker,
        images=app.image_checker,
        image_max_bytes=settings.image_max_bytes,
        texts=texts,
        pseudonym=pseudonym,
        memory=ChatMemory(ttl_s=settings.context_ttl_s),
        user_limit=UserRateLimit(limit=settings.user_questions_per_minute),
        update_limit=UserRateLimit(limit=settings.user_updates_per_minute),
        quiz=app.quiz,
        stats=app.stats if own else open_usage_stats(settings, pseudonym),
        admin_ids=settings.admin_user_ids,
        typing_after_s=0.0 if app.grounded is not None else 0.5,
    )


def build_application(
    token: str,
    base_url: str,
    services: BotServices,
    concurrent_updates: int = 64,
    proxy: str | None = None,
    base_file_url: str | None = None,
) -> Application:
    """The one function that composes the bot: client settings, handlers and the error handler.

    `proxy` (TELEGRAM_PROXY) carries both the Bot API calls and getUpdates; pictures are
    downloaded from `base_file_url` (TELEGRAM_API_BASE_FILE_URL), by default beside `base_url`.
    """
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(base_file_url or file_url_of(base_url))
        .context_types(CONTEXT_TYPES)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(concurrent_updates)
        .post_init(admin.post_init)
    )
    if proxy:
        builder = builder.proxy(proxy).get_updates_proxy(proxy)
    application = builder.build()
    application.bot_data["services"] = services
    application.add_handler(TypeHandler(Update, admin.flood_gate), group=-1)
    commands = {
        "start": browse.start,
        "help": browse.help_command,
        "topics": browse.topics,
        "cases": browse.cases,
        "report": browse.report,
        "lang": browse.language,
        "privacy": browse.privacy,
        "forget": browse.forget,
        "check": check.check_command,
        "quiz": quiz.quiz_command,
        "stats": admin.stats_command,
    }
    missing = [item.command for item in services.texts.menu if item.command not in commands]
    if missing:
        raise PromptError(
            f"the command menu (prompts/telegram.yaml) lists commands without a handler: {missing}"
        )
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback))
    # Buttons, one handler per kind of callback data (formats in views.py); the last one
    # answers a button this version no longer knows.
    application.add_handler(CallbackQueryHandler(browse.language_button, pattern=r"^l:"))
    application.add_handler(CallbackQueryHandler(browse.topic_button, pattern=r"^t:"))
    application.add_handler(CallbackQueryHandler(browse.entry_button, pattern=r"^e:"))
    application.add_handler(CallbackQueryHandler(browse.case_button, pattern=r"^c:"))
    application.add_handler(CallbackQueryHandler(quiz.quiz_button, pattern=r"^z:"))
    application.add_handler(CallbackQueryHandler(admin.feedback_button, pattern=r"^f:"))
    application.add_handler(CallbackQueryHandler(browse.expired_button))
    # Pictures: a photo or an image file in a private chat is checked; in a group, one whose
    # caption starts with /check (a reply with /check goes through check_command).
    picture = (filters.PHOTO | filters.Document.IMAGE) & filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(picture & filters.ChatType.PRIVATE, check.picture))
    application.add_handler(MessageHandler(picture & filters.CaptionRegex(CHECK_CAPTION), check.picture))
    # Messages: a forwarded text is checked, any other text is a question.
    text = filters.TEXT & ~filters.COMMAND
    application.add_handler(
        MessageHandler(text & filters.FORWARDED & filters.UpdateType.MESSAGE, check.forwarded)
    )
    application.add_handler(MessageHandler(text & filters.UpdateType.MESSAGES, ask.question))
    other = filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    application.add_handler(MessageHandler(other, ask.not_text))
    application.add_error_handler(admin.error_handler)
    return application
