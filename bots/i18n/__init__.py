"""Translations: reading the compiled catalogs, the extraction, the catalogs per bot, the checks and the workflow."""
