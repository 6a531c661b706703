//! SQL on a service's database behind the service's back, on either backend:
//! for the tests that read what a service stored (a fingerprint, the rows a
//! refusal must not leave) or set up what no route can (a price changed in
//! place, a thousand keys at once).

use diesel::deserialize::QueryableByName;
use diesel::pg::Pg;
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::{Backend, TestDb};

/// A connection of its own to a test database.
enum Conn {
    Pg(AsyncPgConnection),
    Sqlite(SyncConnectionWrapper<SqliteConnection>),
}

impl TestDb {
    async fn connect(&self) -> Conn {
        match self.backend {
            Backend::Postgres => Conn::Pg(
                AsyncPgConnection::establish(&self.url)
                    .await
                    .expect("connect"),
            ),
            Backend::Sqlite => {
                let path = self.url.trim_start_matches("sqlite://").to_owned();
                let mut conn = SyncConnectionWrapper::<SqliteConnection>::establish(&path)
                    .await
                    .expect("connect");
                // The service may be writing: wait for its lock, as it does.
                diesel::sql_query("PRAGMA busy_timeout = 5000")
                    .execute(&mut conn)
                    .await
                    .expect("pragma");
                Conn::Sqlite(conn)
            }
        }
    }

    /// Runs one statement; the rows it changed.
    pub async fn execute(&self, sql: &str) -> usize {
        let statement = diesel::sql_query(sql);
        match self.connect().await {
            Conn::Pg(mut conn) => statement.execute(&mut conn).await,
            Conn::Sqlite(mut conn) => statement.execute(&mut conn).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The rows of one query, each read by column name.
    pub async fn load<T>(&self, sql: &str) -> Vec<T>
    where
        T: QueryableByName<Pg> + QueryableByName<Sqlite> + Send + 'static,
    {
        let query = diesel::sql_query(sql);
        match self.connect().await {
            Conn::Pg(mut conn) => query.load(&mut conn).await,
            Conn::Sqlite(mut conn) => query.load(&mut conn).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

impl TestDb {
    /// Runs a whole SQL script on the empty database: a dump
    /// (`sqlite3 .dump`, `pg_dump --inserts`) made by another build, say.
    pub async fn restore(&self, script: &str) {
        use diesel_async::SimpleAsyncConnection;
        match self.connect().await {
            Conn::Pg(mut conn) => conn.batch_execute(script).await,
            Conn::Sqlite(mut conn) => conn.batch_execute(script).await,
        }
        .unwrap_or_else(|e| panic!("restoring a dump into {}: {e}", self.url))
    }
}
