"""Messages that enter through the messages table's stream, from any producer."""
