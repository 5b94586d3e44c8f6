"""The domain of Khoso: models, Dublin Core, access policy, search and services (no HTTP here)."""
