"""Outbound clients: the helpdesk REST APIs, sharing one HTTP policy."""
