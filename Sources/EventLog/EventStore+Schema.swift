import GRDB

extension EventStore {
    /// The schema, as named migrations. Append only: never edit or reorder a migration that
    /// has shipped; add a new one (`v2-...`) instead. A database that lists a migration this
    /// binary does not know was written by a newer failoverctl and is refused.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-events") { db in
            // `at` is UTC milliseconds; `details` is JSON text with sorted keys.
            try db.execute(
                sql: """
                    CREATE TABLE event (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at INTEGER NOT NULL,
                        controller TEXT NOT NULL,
                        grp TEXT,
                        site TEXT,
                        epoch INTEGER,
                        kind TEXT NOT NULL,
                        details TEXT NOT NULL
                    );
                    CREATE INDEX event_at ON event(at);
                    CREATE INDEX event_site_at ON event(site, at);
                    CREATE INDEX event_grp_at ON event(grp, at);
                    """)
        }
        migrator.registerMigration("v1-site-status") { db in
            // The last `SiteStatus` per site (JSON), for `status` when no controller answers.
            try db.execute(
                sql: """
                    CREATE TABLE site_status (
                        site TEXT PRIMARY KEY,
                        controller TEXT,
                        updated_at INTEGER,
                        json TEXT
                    );
                    """)
        }
        migrator.registerMigration("v1-controller-info") { db in
            try db.execute(sql: "CREATE TABLE controller_info (key TEXT PRIMARY KEY, value TEXT);")
        }
        migrator.registerMigration("v2-groups") { db in
            // The durable `GroupState` per group (JSON), and one row per failover or drill.
            try db.execute(
                sql: """
                    CREATE TABLE group_state (
                        grp TEXT PRIMARY KEY,
                        updated_at INTEGER NOT NULL,
                        json TEXT NOT NULL
                    );
                    CREATE TABLE incident (
                        id TEXT PRIMARY KEY,
                        grp TEXT NOT NULL,
                        epoch INTEGER NOT NULL,
                        decided_at INTEGER NOT NULL,
                        result TEXT NOT NULL,
                        json TEXT NOT NULL
                    );
                    CREATE INDEX incident_grp_decided ON incident(grp, decided_at);
                    """)
        }
        migrator.registerMigration("v3-alert-outbox") { db in
            // Alerts waiting for (or done with) delivery, written in the event's transaction.
            // `body` is the alert as JSON, without any sink's secrets.
            try db.execute(
                sql: """
                    CREATE TABLE alert_outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        event_id INTEGER NOT NULL,
                        sink TEXT NOT NULL,
                        dedup_key TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        body TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_at INTEGER NOT NULL,
                        last_error TEXT,
                        done_at INTEGER
                    );
                    CREATE INDEX alert_outbox_state ON alert_outbox(state, id);
                    """)
        }
        migrator.registerMigration("v4-mirror") { db in
            // Events mirrored in from other controllers (etcd coordination), by the etcd key
            // they came from, so none is inserted twice; and the exchange's cursors.
            try db.execute(
                sql: """
                    CREATE TABLE mirrored_event (origin TEXT PRIMARY KEY, event_id INTEGER NOT NULL);
                    CREATE TABLE mirror_cursor (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                    """)
        }
        return migrator
    }()

    /// Brings the schema up to date, refusing a database written by a newer failoverctl.
    static func migrate(_ writer: any DatabaseWriter, path: String) throws {
        try refuseNewerSchema(writer, path: path)
        try migrator.migrate(writer)
    }

    /// For a read-only open: the schema must be exactly one this binary knows, complete.
    static func checkSchema(_ reader: any DatabaseReader, path: String) throws {
        try refuseNewerSchema(reader, path: path)
        let missing: [String] = try reader.read { db in
            let applied = try migrator.appliedIdentifiers(db)
            return migrator.migrations.filter { !applied.contains($0) }
        }
        if !missing.isEmpty {
            throw EventStoreError.notInitialized.at(path, "missing migrations \(missing.joined(separator: ", "))")
        }
    }

    private static func refuseNewerSchema(_ reader: any DatabaseReader, path: String) throws {
        let unknown: [String] = try reader.read { db in
            let known = Set(migrator.migrations)
            return try migrator.appliedIdentifiers(db).filter { !known.contains($0) }.sorted()
        }
        if !unknown.isEmpty {
            throw EventStoreError.newerSchema.at(path, "unknown migrations \(unknown.joined(separator: ", "))")
        }
    }
}
