"""A JSON column that keeps documents as they were written."""

from django.db import models
from psycopg.types.json import Json


class OrderedJSONField(models.JSONField):
    """On PostgreSQL, ``json`` rather than ``jsonb``: ``jsonb`` re-sorts keys, and the message
    log must show frames in the order stations sent them. SQLite keeps the text as it is.
    Nothing filters inside payloads, so ``jsonb``'s operators are not needed."""

    def db_type(self, connection):
        return "json" if connection.vendor == "postgresql" else super().db_type(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        if connection.vendor != "postgresql":
            return super().get_db_prep_value(value, connection, prepared)
        if not prepared:
            value = self.get_prep_value(value)
        # Django sends jsonb, which PostgreSQL would re-sort before casting to json.
        return None if value is None else Json(value)

    def from_db_value(self, value, expression, connection):
        # psycopg already decodes the json type; decoding again would turn a logged raw
        # string that happens to look like JSON into a structure.
        if connection.vendor == "postgresql":
            return value
        return super().from_db_value(value, expression, connection)
