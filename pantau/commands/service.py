"""Commands owned by the service stage (registered on pantau.commands.app)."""
