"""Commands owned by the demo stage (registered on pantau.commands.app)."""
