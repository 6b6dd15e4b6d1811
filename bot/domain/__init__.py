"""What the bot does, apart from Telegram: each function takes the services and plain data."""
