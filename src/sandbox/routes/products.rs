//! `/v1/sdk/products` and `/v1/sdk/products/{productRef}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::params;
use serde_json::{Map, Value, json};

use super::paging;
use crate::model::validate;
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::model::{self, Product};
use crate::sandbox::util::{Fields, fmt_ts, json_object, new_id, new_ref, query_map};
use crate::sandbox::{AppState, St, views};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/sdk/products", get(list).post(create))
        .route(
            "/v1/sdk/products/{productRef}",
            get(fetch).put(update).delete(remove),
        )
}

struct ProductInput {
    name: Option<String>,
    description: Option<String>,
    image_url: Option<String>,
    product_type: Option<String>,
    tax_behavior: Option<String>,
    status: Option<String>,
    is_mcp_pay: Option<bool>,
    config: Option<Map<String, Value>>,
    metadata: Option<Map<String, Value>>,
}

fn read_input(map: &Map<String, Value>, creating: bool) -> ApiResult<ProductInput> {
    let mut f = Fields::new(map);
    let name = if creating {
        f.str_req("name", 2, 100)
    } else {
        f.str_opt("name", 2, 100)
    };
    let input = ProductInput {
        name,
        description: f.str_opt("description", 0, 1000),
        image_url: f.str_opt("imageUrl", 0, 2048),
        product_type: f.str_opt("productType", 0, 100),
        tax_behavior: f.enum_opt("taxBehavior", &["auto", "inclusive", "exclusive"]),
        status: if creating {
            None
        } else {
            f.enum_opt("status", &["active", "inactive"])
        },
        is_mcp_pay: f.bool_opt("isMcpPay"),
        config: f.object_opt("config"),
        metadata: f.object_opt("metadata"),
    };
    if let Some(Some(v)) = map.get("config").map(|c| c.get("validityPeriod"))
        && !v.as_f64().is_some_and(|n| n > 0.0)
    {
        {
            f.fail(
                "config.validityPeriod",
                "config.validityPeriod must be a positive number",
            );
        }
    }
    f.finish()?;
    if let Some(n) = &input.name {
        validate::name("name", n, 2, 100)
            .map_err(|e| ApiError::bad_request(format!("name {}", e.message)))?;
    }
    Ok(input)
}

/// `POST /v1/sdk/products` → 201 `SdkProductResponse`.
async fn create(State(st): St, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let i = read_input(&json_object(&body)?, true)?;
    st.swept_tx(st.clock.now(), move |tx, now| {
        let reference = new_ref("prd");
        tx.execute(
            "INSERT INTO products (id, reference, name, description, image_url, product_type,
                   is_mcp_pay, tax_behavior, config, metadata, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
            params![
                new_id(),
                reference,
                i.name.unwrap_or_default().trim(),
                i.description,
                i.image_url,
                i.product_type,
                i.is_mcp_pay.unwrap_or(false),
                i.tax_behavior,
                Value::Object(i.config.unwrap_or_default()).to_string(),
                Value::Object(i.metadata.unwrap_or_default()).to_string(),
                fmt_ts(now)
            ],
        )?;
        let p = model::require_product(tx, &reference)?;
        Ok((StatusCode::CREATED, Json(views::product(tx, &p)?)))
    })
    .await
}

/// `GET /v1/sdk/products?limit=&offset=&search=&status=` → `{products, total, limit, offset}`.
async fn list(State(st): St, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    let q = query_map(q.as_deref());
    let (limit, offset) = paging(&q, 50)?;
    let status = q.get("status").cloned().filter(|s| !s.is_empty());
    if let Some(s) = &status
        && !matches!(s.as_str(), "active" | "inactive")
    {
        return Err(ApiError::bad_request(
            "status must be one of: active, inactive",
        ));
    }
    let mcp = match q.get("isMcpPay").map(String::as_str) {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(ApiError::bad_request("isMcpPay must be true or false")),
    };
    let pattern = format!(
        "%{}%",
        q.get("search").cloned().unwrap_or_default().to_lowercase()
    );
    st.swept_tx(st.clock.now(), move |tx, _| {
        let cond = "(lower(name) LIKE ?1 OR lower(COALESCE(description, '')) LIKE ?1)
                        AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR is_mcp_pay = ?3)";
        let total: i64 = tx.query_row(
            &format!("SELECT COUNT(*) FROM products WHERE {cond}"),
            params![pattern, status, mcp],
            |r| r.get(0),
        )?;
        let mut stmt = tx.prepare(&format!(
            "SELECT * FROM products WHERE {cond} ORDER BY created_at DESC, rowid DESC
                 LIMIT ?4 OFFSET ?5"
        ))?;
        let rows: Vec<Product> = stmt
            .query_map(
                params![pattern, status, mcp, limit, offset],
                Product::from_row,
            )?
            .collect::<Result<_, _>>()?;
        let products = rows
            .iter()
            .map(|p| views::product(tx, p))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(Json(
            json!({"products": products, "total": total, "limit": limit, "offset": offset}),
        ))
    })
    .await
}

/// `GET /v1/sdk/products/{productRef}` → `SdkProductResponse` (with `balance`, `plans`).
async fn fetch(State(st): St, Path(r): Path<String>) -> ApiResult<Json<Value>> {
    st.swept_tx(st.clock.now(), move |tx, _| {
        let p = model::require_product(tx, &r)?;
        Ok(Json(views::product(tx, &p)?))
    })
    .await
}

/// `PUT /v1/sdk/products/{productRef}`: only the supplied fields change.
async fn update(State(st): St, Path(r): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    let i = read_input(&json_object(&body)?, false)?;
    st.swept_tx(st.clock.now(), move |tx, now| {
            let p = model::require_product(tx, &r)?;
            tx.execute(
                "UPDATE products SET name = COALESCE(?1, name), description = COALESCE(?2, description),
                   image_url = COALESCE(?3, image_url), product_type = COALESCE(?4, product_type),
                   tax_behavior = COALESCE(?5, tax_behavior), status = COALESCE(?6, status),
                   is_mcp_pay = COALESCE(?7, is_mcp_pay), config = COALESCE(?8, config),
                   metadata = COALESCE(?9, metadata), updated_at = ?10
                 WHERE id = ?11",
                params![
                    i.name.map(|n| n.trim().to_owned()),
                    i.description,
                    i.image_url,
                    i.product_type,
                    i.tax_behavior,
                    i.status,
                    i.is_mcp_pay,
                    i.config.map(|m| Value::Object(m).to_string()),
                    i.metadata.map(|m| Value::Object(m).to_string()),
                    fmt_ts(now),
                    p.id
                ],
            )?;
            let p = model::require_product(tx, &p.id)?;
            Ok(Json(views::product(tx, &p)?))
        })
        .await
}

/// `DELETE /v1/sdk/products/{productRef}`. Sandbox choice: a hard delete (plans included) unless the
/// product has purchases or transactions, which must stay readable; then it is deactivated.
async fn remove(State(st): St, Path(r): Path<String>) -> ApiResult<Json<Value>> {
    st.swept_tx(st.clock.now(), move |tx, now| {
        let p = model::require_product(tx, &r)?;
        let used: i64 = tx.query_row(
            "SELECT (SELECT COUNT(*) FROM purchases WHERE product_id = ?1)
                      + (SELECT COUNT(*) FROM transactions WHERE product_id = ?1)",
            [&p.id],
            |row| row.get(0),
        )?;
        let action = if used > 0 {
            tx.execute(
                "UPDATE products SET status = 'inactive', updated_at = ?1 WHERE id = ?2",
                params![fmt_ts(now), p.id],
            )?;
            "deactivated"
        } else {
            tx.execute(
                "DELETE FROM checkout_sessions WHERE product_id = ?1",
                [&p.id],
            )?;
            tx.execute("DELETE FROM products WHERE id = ?1", [&p.id])?;
            "deleted"
        };
        Ok(Json(json!({"success": true, "action": action})))
    })
    .await
}
