"""Scrapy project: discover and fetch article pages, hand them to the ingest chain."""
