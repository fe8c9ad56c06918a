"""Textual widgets and screens. They render ``console.model`` types and post messages; they never
import httpx, the clients or ``commands``."""
