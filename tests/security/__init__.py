"""Security suite: hostile input cannot reach a report; nothing private stays in a reports folder."""
