"""Ascolto: local, multilingual quality monitoring for contact-centre calls.

Data flows one way: audio -> transcript -> evaluation -> store -> dashboard.
"""

__version__ = "0.1.0"
