"""Claim use cases, one module per concern (claims-paper: cms1500*, the paper forms)."""
