//! A crate's migrations, written once where the SQL is the same for both
//! backends.
//!
//! Each crate with tables has three directories, embedded in its binary:
//! `migrations/both` (SQL both backends run as it is), `migrations/postgres`
//! and `migrations/sqlite` (SQL one backend needs its own way: the key
//! columns, `BYTEA` against `BLOB`, triggers). A backend's migrations are the
//! shared ones merged with its own, in the order of their versions, so a
//! migration keeps its version wherever it lives: a database made before it
//! moved sees it applied and runs nothing again. One version in both places
//! is refused (diesel would silently run only one of them).

use std::collections::BTreeSet;

use diesel::backend::Backend;
use diesel::migration::{Migration, MigrationSource};
use diesel_migrations::EmbeddedMigrations;

/// The migrations of one crate (see the module's documentation), each
/// field an `embed_migrations!` of the directory it is named for:
///
/// ```ignore
/// pub const MIGRATIONS: server::Migrations = server::Migrations {
///     both: diesel_migrations::embed_migrations!("migrations/both"),
///     postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
///     sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
/// };
/// ```
pub struct Migrations {
    pub both: EmbeddedMigrations,
    pub postgres: EmbeddedMigrations,
    pub sqlite: EmbeddedMigrations,
}

impl Migrations {
    /// What PostgreSQL runs: the shared migrations and its own.
    pub fn for_postgres(self) -> Merged {
        Merged([self.both, self.postgres])
    }

    /// What SQLite runs: the shared migrations and its own.
    pub fn for_sqlite(self) -> Merged {
        Merged([self.both, self.sqlite])
    }
}

/// The shared migrations and one backend's, as one source in version order.
pub struct Merged([EmbeddedMigrations; 2]);

impl<DB: Backend> MigrationSource<DB> for Merged
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<DB>>>> {
        let mut all = Vec::new();
        for set in &self.0 {
            all.extend(MigrationSource::<DB>::migrations(set)?);
        }
        let mut versions = BTreeSet::new();
        for migration in &all {
            let version = migration.name().version().to_string();
            if !versions.insert(version.clone()) {
                return Err(format!(
                    "migration {version} is both shared and a backend's own: keep one"
                )
                .into());
            }
        }
        all.sort_by_key(|m| m.name().version().to_string());
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use diesel::migration::MigrationSource;
    use diesel::sqlite::Sqlite;
    use diesel_migrations::embed_migrations;

    use super::Migrations;

    /// `testdata`: a shared migration, each backend's own after it, and
    /// SQLite's own copy of the shared one's version.
    const TESTDATA: Migrations = Migrations {
        both: embed_migrations!("src/db/testdata/both"),
        postgres: embed_migrations!("src/db/testdata/postgres"),
        sqlite: embed_migrations!("src/db/testdata/sqlite"),
    };

    #[test]
    fn a_backend_runs_the_shared_migrations_and_its_own_in_version_order() {
        let merged = MigrationSource::<diesel::pg::Pg>::migrations(&TESTDATA.for_postgres())
            .expect("merged");
        let names: Vec<String> = merged.iter().map(|m| m.name().to_string()).collect();
        assert_eq!(names, ["2026-01-01-000000_shared", "2026-01-02-000000_own"]);
    }

    #[test]
    fn one_version_both_shared_and_a_backends_own_is_refused() {
        let Err(e) = MigrationSource::<Sqlite>::migrations(&TESTDATA.for_sqlite()) else {
            panic!("a version twice was accepted");
        };
        assert!(e.to_string().contains("20260101000000"), "{e}");
    }
}
