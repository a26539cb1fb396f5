"""Keyholder: sourced answers about encryption and government demands for data."""

__version__ = "0.1.0"
