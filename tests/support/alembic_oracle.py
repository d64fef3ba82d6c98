"""Alembic as an oracle for strata's revision graph and planner.

Reads one JSON document on stdin:
    {"cases": [{"dir": "/tmp/x/case1", "queries": [
        {"command": "upgrade" | "downgrade" | "stamp" | "history", "current": ["rev", ...],
         "target": "head"}]}]}
Each case dir holds a `versions/` folder of Alembic revision scripts. For each case, prints
(as one JSON document on stdout, all cases together) the map's heads, real heads, bases and
`alembic history` order, and for each query either {"error": "..."} or the steps Alembic runs
with the version-table rows after each one (for `stamp`, the rows after it; for `history`, the
revisions `alembic history -r lower:upper` lists). Queries run for real against an in-memory SQLite
database, so the row bookkeeping is Alembic's own (HeadMaintainer), not a re-implementation.

Exit code 3 with a message when alembic is not importable.
"""

import json
import sys
import warnings

try:
    import alembic
    import sqlalchemy
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
except ImportError as error:  # pragma: no cover - reported by the calling test
    print(f"alembic is not importable: {error}", file=sys.stderr)
    sys.exit(3)


def run_query(script, command, current, target):
    if command == "history":
        lower, _, upper = target.partition(":")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                revs = script.walk_revisions(lower or "base", upper or "heads")
                return {"rows": [s.revision for s in revs]}
        except Exception as error:  # noqa: BLE001
            return {"error": f"{type(error).__name__}: {error}"}
    steps = []

    def on_apply(ctx, step, heads, run_args):
        steps.append({
            "revision": step.up_revision_id,
            "direction": "up" if step.is_upgrade else "down",
            "heads": sorted(heads),
        })

    def fn(rev, context):
        if command == "upgrade":
            return script._upgrade_revs(target, rev)
        return script._downgrade_revs(target, rev)

    # A fresh in-memory database per query: nothing leaks between queries.
    # future=True: the 2.0-style Connection (with rollback) on SQLAlchemy 1.4 as well.
    engine = sqlalchemy.create_engine("sqlite://", future=True)
    with engine.connect() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
        )
        for head in current:
            conn.exec_driver_sql(
                "INSERT INTO alembic_version (version_num) VALUES (?)", (head,)
            )
        ctx = MigrationContext.configure(
            connection=conn, opts={"fn": fn, "on_version_apply": [on_apply]}
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if command == "stamp":
                    ctx.stamp(script, target)
                    rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version")
                    return {"rows": sorted(row[0] for row in rows)}
                ctx.run_migrations()
        except Exception as error:  # noqa: BLE001 - any refusal is the answer
            return {"error": f"{type(error).__name__}: {error}"}
        finally:
            conn.rollback()
            engine.dispose()
    return {"steps": steps}


def main():
    request = json.load(sys.stdin)
    results = []
    for case in request["cases"]:
        script = ScriptDirectory(case["dir"])
        revision_map = script.revision_map
        result = {
            "heads": list(revision_map.heads),
            "realHeads": list(revision_map._real_heads),
            "bases": list(revision_map.bases),
            "history": [s.revision for s in script.walk_revisions()],
            "labels": {
                s.revision: sorted(s.branch_labels) for s in script.walk_revisions()
            },
            "queries": [],
        }
        for query in case["queries"]:
            result["queries"].append(
                run_query(script, query["command"], query["current"], query["target"])
            )
        results.append(result)
    json.dump({"alembic": alembic.__version__, "cases": results}, sys.stdout)


if __name__ == "__main__":
    main()
