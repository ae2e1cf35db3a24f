//! `candor-loadgen`: sends one HTTP/1.1 request over and over at a constant rate, on a pool of
//! keep-alive connections, and reports what came back and how long it took.
//!
//! Open loop: request `i` is due at `start + i / rate` whether or not earlier ones have been
//! answered, and its latency runs from that moment. A server that stalls for 100 ms shows 100 ms
//! of latency on every request due in that time, as a steady stream of customers would see it,
//! rather than the one slow answer a closed-loop tool (wrk) records.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Mutex};

#[derive(Parser)]
#[command(about = "Constant-rate HTTP load with latency from each request's due time")]
struct Args {
    /// `http://host:port/path`
    url: String,
    #[arg(long, default_value = "GET")]
    method: String,
    /// Request headers, `name: value`, repeatable.
    #[arg(long = "header", short = 'H')]
    headers: Vec<String>,
    #[arg(long, default_value = "")]
    body: String,
    /// Requests per second.
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// Seconds of load, after a one-second warm-up that is not counted.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Keep-alive connections (requests wait for a free one; the wait counts as latency).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// A label for the report line.
    #[arg(long, default_value = "load")]
    label: String,
}

/// What one answered request gives the report: latency from its due time, and whether it was 2xx.
type Outcome = (Duration, bool);

fn main() -> Result<()> {
    let args = Args::parse();
    let (addr, path) = split_url(&args.url)?;
    let mut request =
        format!("{} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\n", args.method, args.body.len());
    for h in &args.headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.push_str(&args.body);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let outcomes = runtime.block_on(run(&args, addr, request.into_bytes()))?;
    report(&args, &outcomes);
    Ok(())
}

fn split_url(url: &str) -> Result<(String, String)> {
    let rest = url.strip_prefix("http://").context("the URL must start with http://")?;
    let (addr, path) = rest.split_once('/').unwrap_or((rest, ""));
    Ok((addr.to_owned(), format!("/{path}")))
}

async fn run(args: &Args, addr: String, request: Vec<u8>) -> Result<Vec<Outcome>> {
    if args.rate == 0 || args.connections == 0 {
        bail!("--rate and --connections must be positive");
    }
    let request = Arc::new(request);
    let warmup = u64::from(args.rate);
    let total = warmup + u64::from(args.rate) * args.duration;
    // Due times go to whichever connection is free; a queue forms only if all are busy.
    let (due_tx, due_rx) = mpsc::channel::<(u64, Instant)>(total as usize);
    let due_rx = Arc::new(Mutex::new(due_rx));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(u64, Outcome)>();
    for _ in 0..args.connections {
        let stream = TcpStream::connect(&addr).await.with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true)?;
        let (request, due_rx, done_tx) = (request.clone(), due_rx.clone(), done_tx.clone());
        tokio::spawn(async move {
            let mut conn = BufReader::new(stream);
            loop {
                let next = due_rx.lock().await.recv().await;
                let Some((i, due)) = next else { break };
                let ok = exchange(&mut conn, &request).await;
                let failed = ok.is_err();
                let _ = done_tx.send((i, (due.elapsed(), ok.unwrap_or(false))));
                if failed {
                    break;
                }
            }
        });
    }
    drop(done_tx);
    let start = Instant::now() + Duration::from_millis(10);
    let step = Duration::from_secs_f64(1.0 / f64::from(args.rate));
    let sender = tokio::spawn(async move {
        for i in 0..total {
            let due = start + step.mul_f64(i as f64);
            tokio::time::sleep_until(due.into()).await;
            if due_tx.send((i, due)).await.is_err() {
                break;
            }
        }
    });
    let mut outcomes = Vec::with_capacity(total as usize);
    // A server that stops answering ends the run (what was answered is still reported).
    let deadline = start + step.mul_f64(total as f64) + Duration::from_secs(30);
    while let Ok(Some((i, outcome))) = tokio::time::timeout_at(deadline.into(), done_rx.recv()).await {
        if i >= warmup {
            outcomes.push(outcome);
        }
        if outcomes.len() as u64 == total - warmup {
            break;
        }
    }
    sender.abort();
    Ok(outcomes)
}

/// Writes the request and reads one response; `Ok(true)` for a 2xx.
async fn exchange(conn: &mut BufReader<TcpStream>, request: &[u8]) -> Result<bool> {
    conn.get_mut().write_all(request).await?;
    let mut line = String::new();
    conn.read_line(&mut line).await?;
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).context("no status line")?;
    let mut length = 0usize;
    loop {
        line.clear();
        if conn.read_line(&mut line).await? == 0 {
            bail!("the connection closed mid-response");
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().context("bad content-length")?;
            }
        }
    }
    let mut body = vec![0u8; length];
    conn.read_exact(&mut body).await?;
    Ok((200..300).contains(&status))
}

fn report(args: &Args, outcomes: &[Outcome]) {
    let mut micros: Vec<u64> = outcomes.iter().map(|(d, _)| d.as_micros() as u64).collect();
    micros.sort_unstable();
    let errors = outcomes.iter().filter(|(_, ok)| !ok).count();
    let pct = |p: f64| -> f64 {
        if micros.is_empty() {
            return f64::NAN;
        }
        let i = ((p / 100.0) * (micros.len() - 1) as f64).round() as usize;
        micros[i] as f64 / 1000.0
    };
    println!(
        "{}: {} req/s offered for {} s: {} answered, {} not 2xx; latency ms p50 {:.2} p90 {:.2} p99 {:.2} p99.9 {:.2} max {:.2}",
        args.label,
        args.rate,
        args.duration,
        outcomes.len(),
        errors,
        pct(50.0),
        pct(90.0),
        pct(99.0),
        pct(99.9),
        pct(100.0)
    );
}
