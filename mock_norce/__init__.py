"""mock-norce: a test double for Norce Commerce Event webhooks."""

__version__ = "0.1.0"
