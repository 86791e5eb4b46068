"""Transport security beyond the handshake: PKIX, DANE, pinning, levels and MTA-STS."""
