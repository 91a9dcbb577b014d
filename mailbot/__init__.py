"""mailbot: an e-mail driven event registration bot."""

__version__ = "0.1.0"
