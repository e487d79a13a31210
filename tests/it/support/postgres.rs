//! PostgreSQL for the shared-state tests: the cluster at `SOLVAPAY_TEST_POSTGRES_URL` (`.ci/run`
//! starts one with `.ci/postgres.sh`), a fresh database per test so tests run in parallel, and a
//! TCP relay in front of it that a test can cut to play a database that went away.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// A database of its own for one test.
pub(crate) struct TestDb {
    /// Its URL.
    pub(crate) url: String,
}

/// A fresh database on the test cluster, or `None` when `SOLVAPAY_TEST_POSTGRES=skip` and no
/// cluster is given. Without either, the test fails saying how to start one.
pub(crate) async fn database() -> Option<TestDb> {
    let Ok(admin) = std::env::var("SOLVAPAY_TEST_POSTGRES_URL") else {
        if std::env::var("SOLVAPAY_TEST_POSTGRES").as_deref() == Ok("skip") {
            eprintln!("skipped: SOLVAPAY_TEST_POSTGRES=skip and no SOLVAPAY_TEST_POSTGRES_URL");
            return None;
        }
        panic!(
            "this test needs PostgreSQL: run `bash .ci/postgres.sh start /tmp/solvapay-pg 55432` and \
             export SOLVAPAY_TEST_POSTGRES_URL=<the URL it prints> (or set \
             SOLVAPAY_TEST_POSTGRES=skip to skip the PostgreSQL tests)"
        );
    };
    let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("SOLVAPAY_TEST_POSTGRES_URL cannot be reached: {e}"));
    tokio::spawn(connection);
    let name = format!("t_{:016x}", rand::random::<u64>());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&name);
    Some(TestDb {
        url: url.to_string(),
    })
}

impl TestDb {
    /// A connection for the test's own look at the tables.
    pub(crate) async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    }

    /// The URL of this database through `relay`.
    pub(crate) fn via(&self, relay: &Relay) -> String {
        let mut url = url::Url::parse(&self.url).unwrap();
        url.set_port(Some(relay.addr.port())).unwrap();
        url.to_string()
    }
}

/// A TCP relay to the test cluster; [`Relay::cut`] closes every connection and refuses new ones.
pub(crate) struct Relay {
    addr: SocketAddr,
    cut: CancellationToken,
}

impl Relay {
    /// A relay to the host and port of `db`.
    pub(crate) async fn to(db: &TestDb) -> Self {
        let url = url::Url::parse(&db.url).unwrap();
        let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = CancellationToken::new();
        let stop = cut.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = stop.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((mut inbound, _)) = accepted else {
                    continue;
                };
                let target = target.clone();
                let stop = stop.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        () = stop.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                    }
                });
            }
        });
        Self { addr, cut }
    }

    /// Drops every relayed connection and closes the port.
    pub(crate) fn cut(&self) {
        self.cut.cancel();
    }
}
