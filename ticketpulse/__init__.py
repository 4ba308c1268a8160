"""ticketpulse: escalate frustrated helpdesk customers to a senior agent."""

__version__ = "0.1.0"
