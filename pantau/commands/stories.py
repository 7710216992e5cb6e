"""Commands owned by the stories stage (registered on pantau.commands.app)."""
