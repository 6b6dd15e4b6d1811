"""A local fake of the Telegram Bot API, for tests and the demo (see ``server``)."""

from bot.sandbox.fake_api.server import ApiCall, ApiError, FakeBotApi

__all__ = ["ApiCall", "ApiError", "FakeBotApi"]
