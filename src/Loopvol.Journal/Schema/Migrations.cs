using Loopvol.Journal.Internal;

namespace Loopvol.Journal.Schema;

/// <summary>
/// The journal's schema, as forward migrations. Migration N takes a database at version N-1 to version N; they run
/// at open, in one transaction, and the version is SQLite's <c>user_version</c>. Never edit a released migration:
/// add the next one, and a fixture of the old version for the migration test.
/// </summary>
internal static class Migrations
{
    public static readonly Migration[] Steps =
    [
        // Version 1.
        """
        CREATE TABLE records (
            seq            INTEGER PRIMARY KEY AUTOINCREMENT,
            uuid           TEXT NOT NULL UNIQUE,
            kind           TEXT NOT NULL CHECK (kind IN ('volume', 'snapshot', 'group')),
            request_name   TEXT NOT NULL,
            backend_name   TEXT NOT NULL UNIQUE,
            state          TEXT NOT NULL CHECK (state IN ('reserved', 'created', 'deleting', 'faulty')),
            created_at     INTEGER NOT NULL,
            updated_at     INTEGER NOT NULL,
            required_bytes INTEGER,
            limit_bytes    INTEGER,
            parameters     TEXT NOT NULL,
            content_source TEXT,
            accessibility  TEXT,
            capabilities   TEXT,
            source_volume  TEXT,
            size_bytes     INTEGER
        );
        CREATE INDEX records_by_kind ON records (kind, state, seq);
        CREATE INDEX records_by_source ON records (source_volume) WHERE source_volume IS NOT NULL;

        -- The directory: one entry per live request name, pointing at its record.
        CREATE TABLE directory (
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            uuid TEXT NOT NULL UNIQUE REFERENCES records (uuid) ON DELETE RESTRICT,
            PRIMARY KEY (kind, name)
        ) WITHOUT ROWID;

        -- Volume groups: group UUID -> {volume ID -> snapshot ID ('' for a plain volume group)}.
        CREATE TABLE group_members (
            group_uuid  TEXT NOT NULL REFERENCES records (uuid) ON DELETE RESTRICT,
            volume_id   TEXT NOT NULL,
            snapshot_id TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (group_uuid, volume_id)
        ) WITHOUT ROWID;
        CREATE INDEX group_members_by_snapshot ON group_members (snapshot_id);

        -- The node side: one row per volume known on this node, one row per published target path.
        CREATE TABLE node_volumes (
            volume_id       TEXT PRIMARY KEY,
            staging_path    TEXT,
            stage_state     TEXT NOT NULL CHECK (stage_state IN ('init', 'attached', 'mounted')),
            loop_device     TEXT,
            stage_arguments TEXT,
            updated_at      INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE node_publications (
            volume_id   TEXT NOT NULL REFERENCES node_volumes (volume_id) ON DELETE RESTRICT,
            target_path TEXT NOT NULL,
            read_only   INTEGER NOT NULL CHECK (read_only IN (0, 1)),
            access_type TEXT NOT NULL CHECK (access_type IN ('mount', 'block')),
            PRIMARY KEY (volume_id, target_path)
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX node_publications_by_target ON node_publications (target_path);
        """,

        // Version 2: which node a volume is controller-published to (ControllerPublishVolume, with --enable-attach).
        """
        CREATE TABLE controller_publications (
            volume_id TEXT NOT NULL,
            node_id   TEXT NOT NULL,
            read_only INTEGER NOT NULL CHECK (read_only IN (0, 1)),
            PRIMARY KEY (volume_id, node_id)
        ) WITHOUT ROWID;
        """,

        // Version 3: the defining arguments become one typed record in its versioned JSON form (DefiningArgumentsJson)
        // instead of ';'- and ','-joined texts in five columns. Rows of version 2 are converted once, here
        // (LegacyArguments). required_bytes (for the provisioned capacity) and source_volume (a snapshot's volume,
        // for the listing filter; NULL for groups, whose sources are in the record) stay as query columns.
        new Migration(
            "ALTER TABLE records ADD COLUMN arguments TEXT;",
            LegacyArguments.ConvertAll,
            """
            ALTER TABLE records DROP COLUMN limit_bytes;
            ALTER TABLE records DROP COLUMN parameters;
            ALTER TABLE records DROP COLUMN content_source;
            ALTER TABLE records DROP COLUMN accessibility;
            ALTER TABLE records DROP COLUMN capabilities;
            """),

        // Version 4: the Kubernetes sidecars' metadata keys move out of the defining arguments into their own table.
        new Migration(KubernetesNamesMigration.CreateTable, KubernetesNamesMigration.MoveAll),

        // Version 5: whether a created object's image has reached the disk (docs/durability.md). An empty volume's
        // image is written without fsync and recorded 0 until something may put data in it; every earlier record
        // is 1. A record being deleted no longer holds its request name (the delete frees it when it starts), so
        // the entries of records left deleting by version 4 go.
        """
        ALTER TABLE records ADD COLUMN image_durable INTEGER NOT NULL DEFAULT 1 CHECK (image_durable IN (0, 1));
        DELETE FROM directory WHERE uuid IN (SELECT uuid FROM records WHERE state = 'deleting');
        """,

        // Version 6: how a volume holds its space (the mutable parameter provisioning, ControllerModifyVolume). Every
        // earlier volume is thin: sparse, as every image was made.
        """
        ALTER TABLE records ADD COLUMN provisioning TEXT NOT NULL DEFAULT 'thin'
            CHECK (provisioning IN ('thin', 'thick', 'thin-pending-release'));
        """,
    ];

    public static int CurrentVersion => Steps.Length;
}

/// <summary>One migration: SQL, then optionally a conversion of the rows in code, then optionally more SQL.</summary>
internal sealed record Migration(string Sql, Action<Db>? Convert = null, string? After = null)
{
    public static implicit operator Migration(string sql) => new(sql);

    public void Apply(Db db)
    {
        db.Execute(Sql);
        Convert?.Invoke(db);
        if (After is not null)
        {
            db.Execute(After);
        }
    }
}
