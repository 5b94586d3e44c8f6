"""Tests of the IIIF Image API: request parameters, rendering, the cache, the validator."""
