//! stdin framing: arbitrary bytes through the bounded line reader, then JSON-RPC decoding of every
//! line that comes out. Invariants: no panic; every line passed on is at most the cap and is one
//! line of the input (never a splice of two); a line over the cap is dropped whole.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rmcp::model::ClientJsonRpcMessage;
use tokio::io::AsyncReadExt;

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
    let out = runtime().block_on(async move {
        let mut reader = solvapay_mcp::stdio::bounded_lines(std::io::Cursor::new(input), CAP);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).await.unwrap();
        out
    });
    // The lines that may pass: every input line (newline included) of at most CAP bytes.
    let expected: Vec<&[u8]> = data
        .split_inclusive(|b| *b == b'\n')
        .filter(|l| l.len() <= CAP)
        .collect();
    let got: Vec<&[u8]> = out.split_inclusive(|b| *b == b'\n').collect();
    assert_eq!(
        got, expected,
        "the reader passed on something other than the short lines"
    );
    for line in got {
        assert!(line.len() <= CAP);
        // What rmcp does with each line: must not panic, whatever the bytes.
        let _ = serde_json::from_slice::<ClientJsonRpcMessage>(line);
    }
});
