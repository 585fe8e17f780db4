"""Pure domain rules: no flask, peewee or stripe imports here."""
