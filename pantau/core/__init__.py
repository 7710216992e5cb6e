"""The floor every stage stands on: settings, the store, calendar helpers.

Nothing here imports a stage (crawler, extract, alerts) or the application; `make lint`
checks it.
"""
