//! stdin framing: arbitrary bytes through the server's stdio transport (its capped line reader,
//! JSON-RPC decoding, the answers to lines it cannot process, the ids in flight). Invariants: no
//! panic, the reader ends at end of input, and only whole lines of at most the cap can become
//! messages.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rmcp::transport::Transport;

const CAP: usize = 256;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let input = data.to_vec();
    let received = runtime().block_on(async move {
        let mut transport =
            solvapay_mcp::stdio::over(std::io::Cursor::new(input), tokio::io::sink(), CAP);
        let mut n = 0;
        while transport.receive().await.is_some() {
            n += 1;
        }
        n
    });
    let short_lines = data
        .split_inclusive(|b| *b == b'\n')
        .filter(|l| l.ends_with(b"\n") && l.len() <= CAP)
        .count();
    assert!(
        received <= short_lines,
        "{received} messages from {short_lines} short lines"
    );
});
