"""Scrapy spiders: one generic news spider (news.py) configured per site."""
