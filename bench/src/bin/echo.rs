//! The cold-start floor: a bare `lambda_runtime` function that answers its event, built
//! like the functions (same release profile, same `lambda_runtime` and `tokio` features),
//! with none of their work at init. `bench --scenario cold` measures exec to its first
//! `GET /runtime/invocation/next` beside theirs.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move { Ok::<Value, Error>(event.payload) })).await
}
