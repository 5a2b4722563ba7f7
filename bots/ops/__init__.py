"""What an operator does to a running installation (backups and restores), apart from the bots."""
