//! Sandbox test harness: start a sandbox in-process, call it over real HTTP, and validate every JSON
//! body against the OpenAPI schema of its operation (tests/fixtures/openapi.json).

#![expect(dead_code, reason = "each test module uses a part of the fixtures")]
#![expect(
    clippy::unwrap_used,
    reason = "test harness: a failed call or a broken fixture must fail the test"
)]

use std::sync::OnceLock;

use reqwest::Method;
use serde_json::{Map, Value, json};
use solvapay_mcp::sandbox::{DbLocation, Sandbox, SandboxOptions};

/// The vendored spec with its generator artifacts repaired: properties marked `selfRequired: false`
/// removed from `required`; `{"type": "number", "enum": [true]}` (the `debited` flags) read as
/// booleans; OpenAPI 3.0 `nullable` turned into a JSON Schema null type.
pub(crate) fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let raw = include_str!("../fixtures/openapi.json");
        let mut v: Value = serde_json::from_str(raw).unwrap();
        repair(&mut v);
        v
    })
}

fn repair(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let (Some(Value::Object(props)), Some(Value::Array(req))) =
                (m.get("properties").cloned(), m.get_mut("required"))
            {
                req.retain(|name| {
                    name.as_str()
                        .and_then(|n| props.get(n))
                        .and_then(|p| p.get("selfRequired"))
                        != Some(&Value::Bool(false))
                });
            }
            if m.get("type") == Some(&json!("number"))
                && m.get("enum")
                    .and_then(Value::as_array)
                    .is_some_and(|e| e.iter().all(Value::is_boolean))
            {
                m.insert("type".into(), json!("boolean"));
            }
            if m.remove("nullable") == Some(Value::Bool(true))
                && let Some(Value::String(t)) = m.get("type").cloned()
            {
                m.insert("type".into(), json!([t, "null"]));
            }
            for child in m.values_mut() {
                repair(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(repair),
        _ => {}
    }
}

/// NestJS error body (the spec gives examples, not schemas, for most errors).
fn error_schema() -> Value {
    json!({
        "type": "object", "required": ["statusCode", "message", "error"],
        "properties": {"statusCode": {"type": "integer"}, "message": {"type": "string"},
                       "error": {"type": "string"}}
    })
}

fn component(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The schema a response to `method template` with `status` must satisfy.
pub(crate) fn schema_for(method: &Method, template: &str, status: u16) -> Value {
    if status >= 400 {
        return error_schema();
    }
    match (method.as_str(), template) {
        ("GET", "/v1/ui/transactions") => return component("TransactionListResponse"),
        ("GET", "/v1/ui/transactions/stats") => return component("TransactionStatsResponse"),
        ("GET", "/v1/ui/transactions/{id}") | ("POST", "/v1/ui/transactions/refunds") => {
            return component("TransactionResponse");
        }
        ("GET", "/v1/ui/customers") => {
            return json!({"type": "object", "required": ["customers", "total", "limit", "offset"],
                "properties": {"customers": {"type": "array", "items": component("CustomerResponse")},
                               "total": {"type": "number"}, "limit": {"type": "number"},
                               "offset": {"type": "number"}}});
        }
        ("POST", "/v1/sandbox/clock") => return json!({"type": "object", "required": ["now"]}),
        _ => {}
    }
    let op = &spec()["paths"][template][method.as_str().to_lowercase()];
    assert!(
        op.is_object(),
        "no operation {method} {template} in openapi.json"
    );
    let responses = op["responses"].as_object().unwrap();
    let code = status.to_string();
    let resp = responses
        .get(&code)
        .or_else(|| {
            responses
                .iter()
                .find(|(c, _)| c.starts_with('2'))
                .map(|(_, r)| r)
        })
        .unwrap_or_else(|| panic!("no {status} response for {method} {template}"));
    resp["content"]["application/json"]["schema"].clone()
}

/// Assert `body` matches the operation's schema.
pub(crate) fn assert_valid(method: &Method, template: &str, status: u16, body: &Value) {
    let mut root = schema_for(method, template, status);
    assert!(
        !root.is_null(),
        "no schema for {status} {method} {template}"
    );
    root.as_object_mut()
        .unwrap()
        .insert("components".into(), spec()["components"].clone());
    let validator = jsonschema::draft4::options().build(&root).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} → {status}: body does not match schema:\n{}\nbody: {body:#}",
        errors.join("\n")
    );
}

/// A running sandbox plus an HTTP client.
pub(crate) struct Sb {
    pub(crate) sandbox: Sandbox,
    pub(crate) http: reqwest::Client,
}

pub(crate) async fn start() -> Sb {
    start_with(SandboxOptions::default()).await
}

pub(crate) async fn start_with(opts: SandboxOptions) -> Sb {
    let sandbox = Sandbox::start(opts).await.unwrap();
    Sb {
        sandbox,
        http: crate::support::http(),
    }
}

pub(crate) fn memory() -> SandboxOptions {
    SandboxOptions {
        db: DbLocation::Memory,
        ..SandboxOptions::default()
    }
}

impl Sb {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    /// Call `path` (an instance of `template`) with the key; validate and return `(status, body)`.
    pub(crate) async fn call(
        &self,
        method: Method,
        template: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.clone(), self.url(path))
            .bearer_auth(self.sandbox.key());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        if status == 204 {
            assert!(text.is_empty());
            return (status, Value::Null);
        }
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path} → {status}: not JSON: {text}"));
        assert_valid(&method, template, status, &value);
        (status, value)
    }

    pub(crate) async fn get(&self, template: &str, path: &str) -> (u16, Value) {
        self.call(Method::GET, template, path, None).await
    }

    pub(crate) async fn post(&self, template: &str, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, template, path, Some(body)).await
    }

    /// Call and require `expected`; returns the body.
    pub(crate) async fn ok(
        &self,
        method: Method,
        template: &str,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let (status, value) = self.call(method.clone(), template, path, body).await;
        assert_eq!(status, expected, "{method} {path}: {value:#}");
        value
    }

    /// Submit an HTML form as the sandbox's own page does in a browser: urlencoded, with the
    /// sandbox's `Origin` (no key: the pages are public). The caller passes the page's `csrf` field.
    pub(crate) async fn form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", self.sandbox.base_url())
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn page(&self, url: &str) -> (u16, String) {
        let res = self.http.get(url).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    // Fixtures.

    pub(crate) async fn customer(&self, email: &str, name: &str) -> String {
        let c = self
            .ok(
                Method::POST,
                "/v1/sdk/customers",
                "/v1/sdk/customers",
                Some(json!({"email": email, "name": name})),
                201,
            )
            .await;
        c["reference"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn product(&self, name: &str) -> String {
        let p = self
            .ok(
                Method::POST,
                "/v1/sdk/products",
                "/v1/sdk/products",
                Some(json!({"name": name})),
                201,
            )
            .await;
        p["reference"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn plan(&self, product: &str, body: Value) -> String {
        let p = self
            .ok(
                Method::POST,
                "/v1/sdk/products/{productRef}/plans",
                &format!("/v1/sdk/products/{product}/plans"),
                Some(body),
                201,
            )
            .await;
        p["reference"].as_str().unwrap().to_owned()
    }

    /// Open a checkout session for the plan and press Pay; returns the purchase reference.
    pub(crate) async fn buy(&self, customer: &str, product: &str, plan: &str) -> String {
        let s = self
            .ok(
                Method::POST,
                "/v1/sdk/checkout-sessions",
                "/v1/sdk/checkout-sessions",
                Some(json!({"customerRef": customer, "productRef": product, "planRef": plan})),
                201,
            )
            .await;
        let id = s["sessionId"].as_str().unwrap().to_owned();
        let (status, page) = self.page(s["checkoutUrl"].as_str().unwrap()).await;
        assert_eq!(status, 200, "{page}");
        let res = self
            .form(
                "/customer/checkout",
                &[("id", &id), ("planRef", plan), ("csrf", &csrf_of(&page))],
            )
            .await;
        assert_eq!(res.status().as_u16(), 200);
        let html = res.text().await.unwrap();
        let start = html.find("<code>pur_").unwrap() + 6;
        html[start..start + 12].to_owned()
    }

    /// Counts of rows visible through the API: (customers, products, transactions, purchases).
    pub(crate) async fn counts(&self) -> (u64, u64, u64, usize) {
        let c = self.get("/v1/ui/customers", "/v1/ui/customers").await.1;
        let p = self.get("/v1/sdk/products", "/v1/sdk/products").await.1;
        let t = self
            .get("/v1/ui/transactions", "/v1/ui/transactions")
            .await
            .1;
        let u = self.get("/v1/sdk/purchases", "/v1/sdk/purchases").await.1;
        (
            c["total"].as_u64().unwrap(),
            p["total"].as_u64().unwrap(),
            t["total"].as_u64().unwrap(),
            u["purchases"].as_array().unwrap().len(),
        )
    }
}

/// The CSRF token a hosted page renders into its forms (the `csrf` hidden field).
pub(crate) fn csrf_of(html: &str) -> String {
    const FIELD: &str = "name=\"csrf\" value=\"";
    let start = html
        .find(FIELD)
        .unwrap_or_else(|| panic!("no csrf field in the page: {html}"))
        + FIELD.len();
    let len = html[start..].find('"').unwrap();
    html[start..start + len].to_owned()
}

/// An object from `json!` (for building bodies field by field).
pub(crate) fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// The Content-Security-Policy of the sandbox's pages (checkout, portal, dashboard) without a
/// return URL.
pub(crate) const PAGE_CSP: &str = "default-src 'self'; form-action 'self'; frame-ancestors 'none'";

/// The headers every sandbox page carries, with the policy `csp`.
pub(crate) fn assert_page_headers(res: &reqwest::Response, csp: &str) {
    let h = res.headers();
    let what = format!("{} {}", res.status(), res.url());
    assert_eq!(h["content-security-policy"], csp, "{what}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    assert_eq!(h["referrer-policy"], "same-origin", "{what}");
    assert_eq!(h["cache-control"], "no-store", "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
}
