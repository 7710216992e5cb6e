"""How the application wires the stages together where one stage hands work to another.

The crawler stores the articles it fetches with whatever it is told to load by dotted path
(as Scrapy loads item pipelines), so it never imports the application. A string, so naming
the ingest pipeline does not load spaCy in a process that only starts a crawl.
"""

INGESTOR_PATH = "pantau.ingest.Ingestor"
