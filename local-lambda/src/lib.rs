//! A local Lambda: the Runtime API a function binary polls (`AWS_LAMBDA_RUNTIME_API`), and
//! the Invoke API (`POST /2015-03-31/functions/{name}/invocations`) that the simulator's SNS
//! and SQS deliveries, the drill and the tests call. One `LocalFunction` per function, each
//! on its own port, so the real binaries run exactly as they run in AWS Lambda. [`build`]
//! builds them with cargo.

pub mod build;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The handler's answer.
    Response(Bytes),
    /// The error the runtime reported (`{"errorType":..,"errorMessage":..}`).
    Error(Bytes),
}

impl Outcome {
    pub fn body(&self) -> &Bytes {
        match self {
            Outcome::Response(b) | Outcome::Error(b) => b,
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(self.body()).unwrap_or(serde_json::Value::Null)
    }
}

struct Pending {
    id: String,
    payload: Bytes,
    reply: Option<oneshot::Sender<Outcome>>,
}

struct State {
    queue: VecDeque<Pending>,
    waiting: HashMap<String, Option<oneshot::Sender<Outcome>>>,
    first_poll: Option<Instant>,
    init_error: Option<Bytes>,
}

struct Inner {
    name: String,
    arn: String,
    timeout: Duration,
    /// Sent instead of a real deadline, as `cargo lambda watch` does (`600000`).
    fixed_deadline_ms: Mutex<Option<u64>>,
    state: Mutex<State>,
    ready: Notify,
    polled: Notify,
    next_id: AtomicU64,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A function's local Lambda endpoint; dropping it stops listening.
pub struct LocalFunction {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    task: JoinHandle<()>,
}

impl Drop for LocalFunction {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LocalFunction {
    /// Serves a function named `name` with the given timeout (the deadline each
    /// invocation is given), on an ephemeral loopback port.
    pub async fn start(name: &str, region: &str, account: &str, timeout: Duration) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            name: name.to_owned(),
            arn: format!("arn:aws:lambda:{region}:{account}:function:{name}"),
            timeout,
            fixed_deadline_ms: Mutex::new(None),
            state: Mutex::new(State {
                queue: VecDeque::new(),
                waiting: HashMap::new(),
                first_poll: None,
                init_error: None,
            }),
            ready: Notify::new(),
            polled: Notify::new(),
            next_id: AtomicU64::new(1),
        });
        let shared = inner.clone();
        let task = accept_loop(listener, shared);
        Ok(Self { addr, inner, task })
    }

    /// Sends `ms` as `Lambda-Runtime-Deadline-Ms` instead of a real deadline: `cargo
    /// lambda watch` sends `600000`, a duration rather than an epoch time.
    pub fn set_fixed_deadline_ms(&self, ms: Option<u64>) {
        *self.inner.fixed_deadline_ms.lock().unwrap_or_else(|e| e.into_inner()) = ms;
    }

    /// The value for the function's `AWS_LAMBDA_RUNTIME_API`.
    pub fn runtime_api(&self) -> String {
        self.addr.to_string()
    }

    /// The URL an SNS topic delivers to (as `cargo lambda watch` serves it).
    pub fn invoke_url(&self) -> String {
        format!("http://{}/2015-03-31/functions/{}/invocations", self.addr, self.inner.name)
    }

    /// When the function first asked for work (its cold start ends there).
    pub fn first_poll(&self) -> Option<Instant> {
        lock(&self.inner.state).first_poll
    }

    /// Waits until the function has asked for work once.
    pub async fn wait_ready(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let polled = self.inner.polled.notified();
            if self.first_poll().is_some() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, polled).await.is_err() {
                return self.first_poll().is_some();
            }
        }
    }

    pub fn init_error(&self) -> Option<Bytes> {
        lock(&self.inner.state).init_error.clone()
    }

    /// Invokes the function and waits for its answer, or gives up after `within`
    /// (the function may have been killed).
    pub async fn invoke(&self, payload: impl Into<Bytes>, within: Duration) -> Option<Outcome> {
        let rx = enqueue(&self.inner, payload.into(), true)?;
        tokio::time::timeout(within, rx).await.ok()?.ok()
    }

    /// Queues an invocation without waiting (an asynchronous invoke).
    pub fn invoke_async(&self, payload: impl Into<Bytes>) {
        let _ = enqueue(&self.inner, payload.into(), false);
    }
}

/// Serves HTTP/1 connections from `listener` until the task is aborted.
fn accept_loop(listener: TcpListener, inner: Arc<Inner>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            let inner = inner.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| serve(inner.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

fn enqueue(inner: &Inner, payload: Bytes, wait: bool) -> Option<oneshot::Receiver<Outcome>> {
    // Random like Lambda's, so two local functions never hand out the same request id.
    let n = inner.next_id.fetch_add(1, Ordering::Relaxed);
    let id = format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        fastrand::u32(..),
        n & 0xffff,
        fastrand::u16(..0x1000),
        fastrand::u16(..0x1000),
        fastrand::u64(..1 << 48)
    );
    let (tx, rx) = oneshot::channel();
    lock(&inner.state).queue.push_back(Pending { id, payload, reply: Some(tx) });
    inner.ready.notify_one();
    wait.then_some(rx)
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

async fn serve(inner: Arc<Inner>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let invocation_type = req
        .headers()
        .get("x-amz-invocation-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("RequestResponse")
        .to_owned();
    let body = req.into_body().collect().await?.to_bytes();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    Ok(match (method, segments.as_slice()) {
        (Method::GET, ["2018-06-01", "runtime", "invocation", "next"]) => next(&inner).await,
        (Method::POST, ["2018-06-01", "runtime", "invocation", id, kind @ ("response" | "error")]) => {
            let tx = lock(&inner.state).waiting.remove(*id);
            match tx {
                Some(tx) => {
                    if let Some(tx) = tx {
                        let outcome = if *kind == "response" { Outcome::Response(body) } else { Outcome::Error(body) };
                        let _ = tx.send(outcome);
                    }
                    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
                }
                None => reply(StatusCode::BAD_REQUEST, r#"{"errorMessage":"unknown request id"}"#),
            }
        }
        (Method::POST, ["2018-06-01", "runtime", "init", "error"]) => {
            lock(&inner.state).init_error = Some(body);
            reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        (Method::POST, ["2015-03-31", "functions", _, "invocations"]) => {
            if invocation_type == "Event" {
                let _ = enqueue(&inner, body, false);
                reply(StatusCode::ACCEPTED, "")
            } else {
                match enqueue(&inner, body, true) {
                    Some(rx) => match rx.await {
                        Ok(Outcome::Response(b)) => reply(StatusCode::OK, b),
                        Ok(Outcome::Error(b)) => {
                            let mut r = reply(StatusCode::OK, b);
                            r.headers_mut()
                                .insert("x-amz-function-error", hyper::header::HeaderValue::from_static("Unhandled"));
                            r
                        }
                        Err(_) => reply(StatusCode::BAD_GATEWAY, r#"{"errorMessage":"the function went away"}"#),
                    },
                    None => reply(StatusCode::INTERNAL_SERVER_ERROR, ""),
                }
            }
        }
        _ => reply(StatusCode::NOT_FOUND, format!(r#"{{"errorMessage":"nothing at {path}"}}"#)),
    })
}

/// Long-polls for the next invocation, like the real Runtime API.
async fn next(inner: &Inner) -> Response<Full<Bytes>> {
    {
        let mut s = lock(&inner.state);
        if s.first_poll.is_none() {
            s.first_poll = Some(Instant::now());
            inner.polled.notify_waiters();
        }
    }
    loop {
        let ready = inner.ready.notified();
        let item = lock(&inner.state).queue.pop_front();
        if let Some(mut p) = item {
            lock(&inner.state).waiting.insert(p.id.clone(), p.reply.take());
            let deadline = std::time::SystemTime::now() + inner.timeout;
            let fixed = *inner.fixed_deadline_ms.lock().unwrap_or_else(|e| e.into_inner());
            let deadline_ms = fixed.map(u128::from).unwrap_or_else(|| {
                deadline.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default()
            });
            let mut r = reply(StatusCode::OK, p.payload);
            let headers = r.headers_mut();
            let mut set = |k: &'static str, v: String| {
                if let Ok(v) = v.parse() {
                    headers.insert(k, v);
                }
            };
            set("lambda-runtime-aws-request-id", p.id);
            set("lambda-runtime-deadline-ms", deadline_ms.to_string());
            set("lambda-runtime-invoked-function-arn", inner.arn.clone());
            set("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0".into());
            set("content-type", "application/json".into());
            return r;
        }
        ready.await;
    }
}

/// A function binary running against a [`LocalFunction`], as Lambda runs it: the standard
/// Lambda environment, the simulator as its AWS endpoint, throwaway credentials. Killed
/// when dropped.
pub struct FunctionProcess {
    pub child: tokio::process::Child,
}

impl FunctionProcess {
    /// Starts `binary` for `function`, with `env` added (topics, policies, ...); its output
    /// goes to `log` (or is discarded).
    pub fn spawn(
        binary: &std::path::Path,
        function: &LocalFunction,
        endpoint_url: &str,
        region: &str,
        env: &[(&str, String)],
        log: Option<std::fs::File>,
    ) -> std::io::Result<Self> {
        use std::process::Stdio;
        let mut cmd = tokio::process::Command::new(binary);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", function.runtime_api())
            .env("AWS_LAMBDA_FUNCTION_NAME", &function.inner.name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", function.inner.name))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_REGION", region)
            .env("AWS_ENDPOINT_URL", endpoint_url)
            .env("AWS_ACCESS_KEY_ID", "AKIDLOCALSIMULATOR")
            .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .kill_on_drop(true)
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        match log {
            Some(f) => {
                let err = f.try_clone()?;
                cmd.stdout(Stdio::from(f)).stderr(Stdio::from(err));
            }
            None => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        Ok(Self { child: cmd.spawn()? })
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}
