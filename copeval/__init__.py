"""copeval: evaluate community-oriented policing implementation, site by site."""

__version__ = "0.1.0"
