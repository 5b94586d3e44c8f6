"""Harvesting partner repositories over OAI-PMH into the "partner libraries" area of search."""
