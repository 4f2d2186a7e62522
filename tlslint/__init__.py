"""tlslint: lint and fix the TLS settings behind handshake failures at the edge."""

__version__ = "0.1.0"
