"""Accountability: the audit chain, digests and their verification, users and signatures,
overrides, recipe and export logs, retention and site settings. Reached through `Store`."""
