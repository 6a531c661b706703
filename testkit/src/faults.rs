//! The failures tests provoke around a service: a dependency that hangs, a
//! database lock held by someone else, thousands of connections.

use crate::{Backend, TestDb};

/// A server that accepts connections and never answers: a dependency that hangs.
/// Its connections are held until the returned task is dropped or aborted.
pub async fn hung_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, task)
}

/// Raises this process's open-file limit to its hard limit, for tests that
/// hold thousands of connections.
pub fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    #[allow(unsafe_code)]
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// Another session holding a database lock, as an operator's migration or a
/// stuck batch job would: on PostgreSQL `LOCK TABLE <table> IN ACCESS
/// EXCLUSIVE MODE` (reads and writes of it wait), on SQLite `BEGIN EXCLUSIVE`
/// (writes wait). Released by [`TableLock::release`] or when dropped.
pub struct TableLock {
    release: Option<std::sync::mpsc::Sender<()>>,
    done: Option<std::thread::JoinHandle<()>>,
}

impl TableLock {
    pub async fn hold(db: &TestDb, table: &str) -> Self {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (locked, is_locked) = tokio::sync::oneshot::channel::<()>();
        let url = db.url.clone();
        let table = table.to_owned();
        let backend = db.backend;
        let done = std::thread::spawn(move || {
            use diesel::connection::SimpleConnection;
            use diesel::Connection;
            match backend {
                Backend::Sqlite => {
                    let path = url.trim_start_matches("sqlite://");
                    let mut conn = diesel::SqliteConnection::establish(path).expect("sqlite");
                    conn.batch_execute("BEGIN EXCLUSIVE").expect("lock");
                    let _ = locked.send(());
                    let _ = released.recv();
                    conn.batch_execute("ROLLBACK").expect("unlock");
                }
                Backend::Postgres => {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    rt.block_on(async move {
                        let (client, connection) =
                            tokio_postgres::connect(&url, tokio_postgres::NoTls)
                                .await
                                .expect("PostgreSQL");
                        tokio::spawn(connection);
                        // Someone else's session (an admin's, another
                        // program's): the service role's own bounds, its
                        // defaults in this database, are not this one's.
                        client
                            .batch_execute(&format!(
                                "SET idle_in_transaction_session_timeout = 0; \
                                 BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
                            ))
                            .await
                            .expect("lock");
                        let _ = locked.send(());
                        let _ = tokio::task::spawn_blocking(move || released.recv()).await;
                        client.batch_execute("ROLLBACK").await.expect("unlock");
                    });
                }
            }
        });
        is_locked.await.expect("the lock was taken");
        Self {
            release: Some(release),
            done: Some(done),
        }
    }

    pub fn release(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.join();
        }
    }
}

impl Drop for TableLock {
    fn drop(&mut self) {
        self.stop();
    }
}
