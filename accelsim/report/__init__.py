"""Presenting results: terminal tables (`table`) and matplotlib figures (`plots`)."""
