"""What protects the people: the vault (keyed hashes, sealed rows), logs that show no text or id, pseudonyms for moderators."""
