"""The two reference servers the service is measured against: the floor and the naive tutorial."""
