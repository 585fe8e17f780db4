"""A table as a CSV download: what the owner's reports and the day sheet hand out."""

import csv
import io

from flask import Response


def csv_download(filename, headers, rows):
    """A CSV attachment named `filename`: the header row, then `rows` (written as given:
    quote text a spreadsheet would run as a formula first, rules.reports.csv_text). Never
    cached: it names clients and money."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
