"""Commands owned by the evaluate stage (registered on pantau.commands.app)."""
