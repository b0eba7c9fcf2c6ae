"""Full-text search over message bodies (issue 11), one index per database.

PostgreSQL: a stored generated `tsvector` column `search` with a GIN index,
in the text search configuration `chat_search` (English stemming after
`unaccent`, no stop words), so the index changes in the same statement as the
body. SQLite: an FTS5 table `chat_message_fts` over chat_message's body
(`porter unicode61 remove_diacritics 2`), kept current by triggers.

Neither is a model field: chat/search.py queries them.
"""

from django.db import migrations

POSTGRESQL = [
    # Trusted since PostgreSQL 13: a database owner may create it.
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    # English stemming without the stop word list, so `the` or `it` is a word
    # like any other, as in SQLite's porter tokenizer.
    "CREATE TEXT SEARCH DICTIONARY chat_english_stem (TEMPLATE = snowball, LANGUAGE = english)",
    "CREATE TEXT SEARCH CONFIGURATION chat_search (COPY = pg_catalog.english)",
    """ALTER TEXT SEARCH CONFIGURATION chat_search
       ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
       WITH unaccent, chat_english_stem""",
    # to_tsvector with a constant regconfig is immutable, as a generated column needs.
    """ALTER TABLE chat_message ADD COLUMN search tsvector
       GENERATED ALWAYS AS (to_tsvector('chat_search'::regconfig, body)) STORED""",
    "CREATE INDEX chat_message_search ON chat_message USING gin (search)",
    # A search walks the id index backwards when it expects to meet its page
    # of matches soon, else it asks the GIN index. It expects so from the
    # column's statistics: with the default 1,000 most common words kept, a
    # word outside them was guessed six times as frequent as it was, and a
    # search for it walked a quarter of the table (300 ms at 1,000,000 rows).
    # 10,000 words kept: 25 ms at worst (README, "Search"); ANALYZE takes 3 s.
    "ALTER TABLE chat_message ALTER COLUMN search SET STATISTICS 1000",
]
POSTGRESQL_REVERSE = [
    "ALTER TABLE chat_message DROP COLUMN search",
    "DROP TEXT SEARCH CONFIGURATION chat_search",
    "DROP TEXT SEARCH DICTIONARY chat_english_stem",
]

SQLITE = [
    # External content: the text stays in chat_message only; the index keeps rowid = id.
    """CREATE VIRTUAL TABLE chat_message_fts USING fts5(
       body, content='chat_message', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER chat_message_fts_insert AFTER INSERT ON chat_message BEGIN
       INSERT INTO chat_message_fts (rowid, body) VALUES (new.id, new.body);
       END""",
    # An external content index is told the old text to forget it.
    """CREATE TRIGGER chat_message_fts_delete AFTER DELETE ON chat_message BEGIN
       INSERT INTO chat_message_fts (chat_message_fts, rowid, body) VALUES ('delete', old.id, old.body);
       END""",
    """CREATE TRIGGER chat_message_fts_update AFTER UPDATE OF body ON chat_message BEGIN
       INSERT INTO chat_message_fts (chat_message_fts, rowid, body) VALUES ('delete', old.id, old.body);
       INSERT INTO chat_message_fts (rowid, body) VALUES (new.id, new.body);
       END""",
    # The messages stored before this migration.
    "INSERT INTO chat_message_fts (chat_message_fts) VALUES ('rebuild')",
]
SQLITE_REVERSE = [
    "DROP TRIGGER chat_message_fts_insert",
    "DROP TRIGGER chat_message_fts_delete",
    "DROP TRIGGER chat_message_fts_update",
    "DROP TABLE chat_message_fts",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0005_message_life"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
