"""The Textual console. Only modules in this package may import textual."""
