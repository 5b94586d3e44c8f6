"""The OAI-PMH 2.0 data provider, without HTTP: requests in, XML documents out.

``provider.respond`` answers one request; ``records.sync_records`` keeps the table of
exposed records (datestamps, tombstones) true to what the public may see.
"""
