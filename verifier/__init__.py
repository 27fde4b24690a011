"""verifier: prove where an email really went."""

__version__ = "0.1.0"
