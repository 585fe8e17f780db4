"""The query planner's statistics: `flask db analyze`, after migrations, and daily (the
routine task); without them SQLite may pick a practice-wide index over a provider's."""

from portal import db
from portal.db import database
from portal.tasks import routine


def _analyzed_tables():
    if db.IS_POSTGRES:
        rows = database.execute_sql(
            "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
        )
    else:
        rows = database.execute_sql("SELECT DISTINCT tbl FROM sqlite_stat1")
    return {r[0] for r in rows}


def test_db_analyze_gathers_statistics(app, world):
    result = app.test_cli_runner().invoke(args=["db", "analyze"])
    assert result.exit_code == 0, result.output
    assert "Statistics refreshed" in result.output
    with app.app_context(), database.connection_context():
        assert {"client", "provider", "practice"} <= _analyzed_tables()


def test_the_daily_task_runs_it(app, world):
    with app.app_context(), database.connection_context():
        if not db.IS_POSTGRES:
            database.execute_sql("DELETE FROM sqlite_stat1")
            assert _analyzed_tables() == set()
        routine.refresh_statistics()
        assert "client" in _analyzed_tables()
