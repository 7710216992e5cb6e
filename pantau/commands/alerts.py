"""Commands owned by the alerts stage (registered on pantau.commands.app)."""
