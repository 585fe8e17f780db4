"""X12 EDI for claims: pure text in, text out (no flask, peewee or portal imports).

- segments: parse any interchange (separators from its ISA), identify a file by its
  content (kind_of: ST01), value helpers, X12Error.
- claim837: the dataclasses an 837P is written from; write837.write_837p(batch) -> text.
- read835 / read999 / read277: readers, text in, dataclasses out.
- read837: a summary reader of 837P files (what a clearinghouse or payer reads back).
- answers: build a 999, a 277CA and an 835 that answer a given 837P (a fake
  clearinghouse for the demo and tests).
"""
