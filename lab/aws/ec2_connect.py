"""TGW Connect: attachments and peers (moto implements none of it)."""

HANDLERS = {}
