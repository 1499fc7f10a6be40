//! `ws-fanout ADDR COUNT TIMEOUT_SECS`: opens COUNT WebSocket clients to `ws://ADDR/ws`, each
//! as a different client address forwarded by a trusted proxy (`X-Forwarded-For`, so neither
//! `websocket.max_clients_per_ip` nor the rate limit is what is measured), waits until every
//! one of them got a `LEADERBOARD_UPDATE` broadcast after the last of them connected, and
//! prints what it saw. Exit status 0 only when all COUNT connected and got it within
//! TIMEOUT_SECS. Built by `packaging/test-systemd` and run inside its container against the
//! installed service (`cargo build --release --example ws-fanout`).

use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Handshakes under way at once (the listen backlog is finite).
const CONNECTING_AT_ONCE: usize = 200;

/// How one client's handshake went: the `seq` of its CONNECTED, or why it failed.
type Handshake = Result<u64, String>;

/// What one client saw in the end.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Refused,
    /// Connected, but no broadcast sent after everyone connected reached it in time.
    Missed,
    GotBroadcast,
}

/// The `seq` and `type` of a text message, when it has them.
fn seq_and_type(text: &str) -> Option<(u64, String)> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    Some((value["seq"].as_u64()?, value["type"].as_str()?.to_string()))
}

/// Client `index`'s own forwarded address, 10.x.y.z.
fn forwarded_address(index: usize) -> String {
    format!(
        "10.{}.{}.{}",
        (index >> 16) & 0xff,
        (index >> 8) & 0xff,
        index & 0xff
    )
}

/// One client: connects, reports its CONNECTED `seq`, and waits for a `LEADERBOARD_UPDATE`
/// whose `seq` is above every client's CONNECTED (known once `everyone_in` holds it).
async fn client(
    addr: String,
    index: usize,
    permit: OwnedSemaphorePermit,
    handshakes: mpsc::UnboundedSender<Handshake>,
    mut everyone_in: watch::Receiver<Option<u64>>,
) -> Outcome {
    let mut permit = Some(permit);
    let mut request = match format!("ws://{addr}/ws").into_client_request() {
        Ok(request) => request,
        Err(e) => {
            let _ = handshakes.send(Err(e.to_string()));
            return Outcome::Refused;
        }
    };
    if let Ok(value) = forwarded_address(index).parse() {
        request.headers_mut().insert("x-forwarded-for", value);
    }
    let mut ws = match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => ws,
        Err(e) => {
            let _ = handshakes.send(Err(e.to_string()));
            return Outcome::Refused;
        }
    };
    let mut updates_seen = Vec::new();
    loop {
        if let Some(after) = *everyone_in.borrow() {
            if updates_seen.iter().any(|&seq| seq > after) {
                return Outcome::GotBroadcast;
            }
        }
        // Reading also answers the server's pings (tungstenite sends the pong on the next
        // read), so a slow run does not look like a dead client.
        let message = tokio::select! {
            message = ws.next() => message,
            changed = everyone_in.changed() => {
                if changed.is_err() {
                    return Outcome::Missed;
                }
                continue;
            }
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(_)) => continue,
            _ => return Outcome::Missed,
        };
        match seq_and_type(&text) {
            Some((seq, kind)) if kind == "CONNECTED" && permit.is_some() => {
                let _ = handshakes.send(Ok(seq));
                // The next client may start its handshake.
                permit = None;
            }
            Some((seq, kind)) if kind == "LEADERBOARD_UPDATE" => updates_seen.push(seq),
            _ => {}
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(addr), Some(count), Some(timeout)) = (
        args.get(1).cloned(),
        args.get(2).and_then(|c| c.parse::<usize>().ok()),
        args.get(3).and_then(|t| t.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: ws-fanout ADDR COUNT TIMEOUT_SECS");
        std::process::exit(2);
    };
    // Every client is a socket: the default soft limit of 1024 would stop short.
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let all_got_it = runtime.block_on(run(addr, count, Duration::from_secs(timeout)));
    std::process::exit(if all_got_it { 0 } else { 1 });
}

/// Runs `count` clients until each got the broadcast or `timeout` ran out; prints a summary.
async fn run(addr: String, count: usize, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    let (handshakes_tx, mut handshakes) = mpsc::unbounded_channel();
    let (everyone_in_tx, everyone_in) = watch::channel(None);
    let connecting = std::sync::Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
    let spawning = async {
        let mut tasks = Vec::with_capacity(count);
        for index in 0..count {
            let permit = connecting
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            tasks.push(tokio::spawn(tokio::time::timeout_at(
                deadline,
                client(
                    addr.clone(),
                    index,
                    permit,
                    handshakes_tx.clone(),
                    everyone_in.clone(),
                ),
            )));
        }
        tasks
    };
    // Handshakes are counted while clients are spawned: a permit comes back at each CONNECTED.
    let counting = async {
        let (mut connected, mut refused, mut highest_seq, mut first_error) = (0, 0, 0, None);
        while connected + refused < count {
            match tokio::time::timeout_at(deadline, handshakes.recv()).await {
                Ok(Some(Ok(seq))) => {
                    connected += 1;
                    highest_seq = highest_seq.max(seq);
                }
                Ok(Some(Err(e))) => {
                    refused += 1;
                    first_error.get_or_insert(e);
                }
                Ok(None) | Err(_) => break,
            }
        }
        (connected, refused, highest_seq, first_error)
    };
    let (tasks, (connected, refused, highest_seq, first_error)) = tokio::join!(spawning, counting);
    println!(
        "ws-fanout: {connected} of {count} connected, {refused} refused{}; waiting for a broadcast after seq {highest_seq}",
        first_error.map(|e| format!(" (first: {e})")).unwrap_or_default()
    );
    let _ = everyone_in_tx.send(Some(highest_seq));
    let mut got = 0;
    let mut missed = 0;
    for task in tasks {
        match task.await {
            Ok(Ok(Outcome::GotBroadcast)) => got += 1,
            Ok(Ok(Outcome::Refused)) => {}
            _ => missed += 1,
        }
    }
    println!("ws-fanout: {got} of {count} got the broadcast, {missed} connected but missed it");
    got == count
}
