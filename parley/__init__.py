"""Parley: real-time chat on FastAPI and Socket.IO, with sessions in Redis and data in DynamoDB."""

__version__ = "0.1.0"
