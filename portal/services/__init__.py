"""Use cases: each write inside one db.atomic('IMMEDIATE') with its audit rows."""
