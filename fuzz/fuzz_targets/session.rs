//! One client session against the embedded server, as the `server_session` fuzz target runs it and the replay in
//! `crates/redkit-server/tests/random_commands.rs` repeats it (included there by path): the input's first three
//! bytes are cut points (fractions of the rest's length) that split the rest into at most four chunks; the client
//! writes them (yielding between), shuts down its write half and reads every reply until the server closes,
//! concurrently with the server.

use std::net::SocketAddr;

use redkit_server::{Server, TcpServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `data`'s first three bytes are cut points (as fractions of the rest's length); the chunks of the rest.
pub(crate) fn chunks(data: &[u8]) -> Vec<&[u8]> {
    let (head, input) = data.split_at(data.len().min(3));
    let mut cuts: Vec<usize> = head.iter().map(|&b| usize::from(b) * input.len() / 256).collect();
    cuts.sort_unstable();
    let mut out = Vec::with_capacity(4);
    let mut at = 0;
    for cut in cuts.into_iter().chain([input.len()]) {
        if cut > at {
            out.push(&input[at..cut]);
            at = cut;
        }
    }
    out
}

/// Run `data` as one session on `server`, until the server closes the connection.
pub(crate) async fn session(server: Server, data: &[u8]) {
    let (client, end) = tokio::io::duplex(64 * 1024);
    let peer = SocketAddr::from(([127, 0, 0, 1], 40000));
    let served = TcpServer::serve_connection(server, end, peer);
    let (mut rx, mut tx) = tokio::io::split(client);
    let send = async move {
        for piece in chunks(data) {
            if tx.write_all(piece).await.is_err() {
                return;
            }
            // Let the server see this chunk on its own.
            tokio::task::yield_now().await;
        }
        let _ = tx.shutdown().await;
    };
    let receive = async move {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = rx.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    tokio::join!(served, send, receive);
}
