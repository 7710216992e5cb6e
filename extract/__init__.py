"""From fetched HTML to clean text, story clusters and neutrality findings."""
