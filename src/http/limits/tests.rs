//! The limits in front of a real axum `Router`, driven with `oneshot`: who is admitted, when a
//! slot frees, what a refusal says.

use std::convert::Infallible;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::routing::get;
use futures::StreamExt;
use futures::channel::mpsc;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::*;

/// A stream the test writes into: the response's body ends when the sender is dropped.
#[derive(Clone, Default)]
struct Streams {
    next: Arc<Mutex<Option<mpsc::UnboundedReceiver<Bytes>>>>,
}

impl Streams {
    /// The body of the next `/stream` response, fed by the returned sender.
    fn open(&self) -> mpsc::UnboundedSender<Bytes> {
        let (tx, rx) = mpsc::unbounded();
        *self.next.lock().unwrap() = Some(rx);
        tx
    }
}

async fn stream(State((_, streams)): State<(CallerLimits, Streams)>) -> Response {
    let rx = streams.next.lock().unwrap().take();
    match rx {
        Some(rx) => Body::from_stream(rx.map(Ok::<_, Infallible>)).into_response(),
        None => "done".into_response(),
    }
}

/// The limits as the HTTP router applies them: the caller named by a header.
async fn limit(
    State((limits, _)): State<(CallerLimits, Streams)>,
    request: Request,
    next: Next,
) -> Response {
    let caller = request.headers()["x-caller"].to_str().unwrap().to_owned();
    match limits.admit(&caller) {
        Ok(admitted) => admitted.hold(next.run(request).await),
        Err(limited) => limited.into_response(),
    }
}

fn app(settings: LimitSettings) -> (Router, CallerLimits, Streams) {
    let limits = CallerLimits::new(settings);
    let streams = Streams::default();
    let state = (limits.clone(), streams.clone());
    let router = Router::new()
        .route("/stream", get(stream))
        .route_layer(middleware::from_fn_with_state(state.clone(), limit))
        .with_state(state);
    (router, limits, streams)
}

async fn get_as(app: &Router, caller: &str) -> Response {
    let request = Request::get("/stream")
        .header("x-caller", caller)
        .body(Body::empty())
        .unwrap();
    app.clone().oneshot(request).await.unwrap()
}

async fn json_of(response: Response) -> Value {
    let body = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}

fn at_once(n: usize) -> LimitSettings {
    LimitSettings::from_counts(n, 0)
}

#[tokio::test]
async fn a_callers_slot_is_held_until_its_streamed_body_ends_and_never_blocks_another() {
    let (app, limits, streams) = app(at_once(1));
    let feed = streams.open();
    let open = get_as(&app, "alice").await;
    assert_eq!(open.status(), StatusCode::OK);

    let refused = get_as(&app, "alice").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()[header::RETRY_AFTER], "1");
    let body = json_of(refused).await;
    assert_eq!(body["error"]["code"], "RATE_LIMITED");
    assert_eq!(body["error"]["limit"], "concurrency");
    assert_eq!(body["error"]["retryAfterSecs"], 1);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 1 open at a time"),
        "{body}"
    );
    assert_eq!(get_as(&app, "bob").await.status(), StatusCode::OK);

    // The handler has long returned; the stream is still open, and so is the slot.
    let mut body = open.into_body();
    feed.unbounded_send(Bytes::from_static(b"event: message\n\n"))
        .unwrap();
    let frame = body.frame().await.unwrap().unwrap();
    assert_eq!(frame.into_data().unwrap(), "event: message\n\n");
    assert_eq!(
        get_as(&app, "alice").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(limits.tracked_callers(), 1);

    drop(feed);
    assert!(body.frame().await.is_none(), "the stream has ended");
    assert_eq!(limits.tracked_callers(), 0, "alice is forgotten");
    let again = get_as(&app, "alice").await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        again.into_body().collect().await.unwrap().to_bytes(),
        "done"
    );
}

#[tokio::test]
async fn a_response_dropped_unread_frees_the_slot() {
    let (app, limits, streams) = app(at_once(1));
    let _feed = streams.open();
    let open = get_as(&app, "alice").await;
    assert_eq!(
        get_as(&app, "alice").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    drop(open);

    assert_eq!(limits.tracked_callers(), 0);
    assert_eq!(get_as(&app, "alice").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn past_the_rate_a_caller_gets_429_with_retry_after_and_others_go_on() {
    let (app, _, _) = app(LimitSettings {
        concurrency: None,
        per_minute: NonZeroU32::new(2),
    });
    for _ in 0..2 {
        assert_eq!(get_as(&app, "alice").await.status(), StatusCode::OK);
    }

    let refused = get_as(&app, "alice").await;

    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // Two a minute: the next slot refills within half a minute.
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let body = json_of(refused).await;
    assert_eq!(body["error"]["code"], "RATE_LIMITED");
    assert_eq!(body["error"]["limit"], "rate");
    assert_eq!(body["error"]["retryAfterSecs"], retry_after);
    assert_eq!(
        body["error"]["message"],
        format!(
            "Too many requests from this caller (at most 2 a minute); retry after {retry_after} s."
        )
    );
    assert_eq!(get_as(&app, "bob").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_request_refused_for_concurrency_does_not_spend_the_rate() {
    let limits = CallerLimits::new(LimitSettings {
        concurrency: NonZeroUsize::new(1),
        per_minute: NonZeroU32::new(2),
    });
    let held = limits.admit("alice").unwrap();
    for _ in 0..5 {
        assert!(matches!(
            limits.admit("alice"),
            Err(Limited::Concurrency { .. })
        ));
    }
    drop(held);
    assert!(limits.admit("alice").is_ok(), "the second of two a minute");
    assert!(matches!(limits.admit("alice"), Err(Limited::Rate { .. })));
}

#[test]
fn the_tracked_callers_are_bounded_and_forgotten_when_idle() {
    let limits = CallerLimits::new(at_once(2));
    for n in 0..1_000 {
        drop(limits.admit(&format!("key {n:04x}")).unwrap());
    }
    assert_eq!(limits.tracked_callers(), 0, "idle callers are not kept");

    let held: Vec<Admitted> = (0..MAX_CALLERS)
        .map(|n| limits.admit(&format!("caller {n}")).unwrap())
        .collect();
    assert_eq!(limits.tracked_callers(), MAX_CALLERS);
    assert_eq!(limits.admit("one more").unwrap_err(), Limited::Busy);
    let second = limits.admit("caller 7");
    assert!(second.is_ok(), "a tracked caller still gets its own slots");

    drop(second);
    drop(held);
    assert_eq!(limits.tracked_callers(), 0);
    assert!(limits.admit("one more").is_ok());
}

#[test]
fn no_limits_admit_everything() {
    let limits = CallerLimits::new(LimitSettings::from_counts(0, 0));
    let held: Vec<_> = (0..100).map(|_| limits.admit("alice").unwrap()).collect();
    assert_eq!(held.len(), 100);
    assert_eq!(limits.tracked_callers(), 0);
}

#[test]
fn by_default_eight_at_once_and_six_hundred_a_minute() {
    let settings = LimitSettings::default();
    assert_eq!(settings.per_minute, NonZeroU32::new(600));
    let limits = CallerLimits::new(settings);
    let held: Vec<_> = (0..8).map(|_| limits.admit("alice").unwrap()).collect();
    assert_eq!(
        limits.admit("alice").unwrap_err(),
        Limited::Concurrency {
            limit: NonZeroUsize::new(8).unwrap()
        }
    );
    drop(held);
    assert!(limits.admit("alice").is_ok());
}
