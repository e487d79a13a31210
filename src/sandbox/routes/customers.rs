//! `/v1/sdk/customers*` and the dashboard routes `GET /v1/ui/customers`, `DELETE /v1/ui/customers/{id}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use rusqlite::{Transaction, params};
use serde_json::{Map, Value, json};

use super::paging;
use crate::model::validate;
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::model::{self, Customer};
use crate::sandbox::util::{Fields, fmt_ts, json_object, new_id, new_ref, query_map};
use crate::sandbox::{AppState, St, views};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/sdk/customers", get(lookup).post(create))
        .route("/v1/sdk/customers/{reference}", get(fetch).patch(update))
        .route("/v1/ui/customers", get(list))
        .route("/v1/ui/customers/{id}", delete(remove))
}

/// Validated customer fields; `None` = not supplied.
struct CustomerInput {
    email: Option<String>,
    name: Option<String>,
    telephone: Option<String>,
    external_ref: Option<String>,
    description: Option<String>,
    metadata: Option<Map<String, Value>>,
}

fn read_input(map: &Map<String, Value>, creating: bool) -> ApiResult<CustomerInput> {
    let mut f = Fields::new(map);
    let email = if creating {
        f.str_req("email", 1, 254)
    } else {
        f.str_opt("email", 1, 254)
    };
    let name = f.str_opt("name", 0, 100);
    let telephone = f.str_opt("telephone", 0, 20);
    let external_ref = f.str_opt("externalRef", 1, 50);
    let description = f.str_opt("description", 0, 1000);
    let metadata = f.object_opt("metadata");
    f.finish()?;
    let email = match email {
        Some(e) => Some(
            validate::email("email", &e)
                .map_err(|_| ApiError::bad_request("Invalid email format"))?,
        ),
        None => None,
    };
    let name = match name {
        Some(n) => Some(
            validate::name("name", &n, 0, 100)
                .map_err(|e| ApiError::bad_request(format!("name {}", e.message)))?,
        ),
        None => None,
    };
    let telephone =
        match telephone {
            Some(t) => Some(validate::telephone("telephone", &t).map_err(|_| {
                ApiError::bad_request("telephone must be a valid E.164 phone number")
            })?),
            None => None,
        };
    Ok(CustomerInput {
        email,
        name,
        telephone,
        external_ref,
        description,
        metadata,
    })
}

fn exists(
    tx: &Transaction<'_>,
    column: &str,
    value: &str,
    except: Option<&str>,
) -> ApiResult<bool> {
    Ok(model::find_customer(tx, column, value)?.is_some_and(|c| Some(c.id.as_str()) != except))
}

/// `POST /v1/sdk/customers` → 201 `CustomerResponse`; 409 on a taken email (200 when an
/// `externalRef` links to the existing customer).
async fn create(State(st): St, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let input = read_input(&json_object(&body)?, true)?;
    st.swept_tx(st.clock.now(), move |tx, now| {
        let email = input.email.clone().unwrap_or_default();
        if let Some(existing) = model::find_customer(tx, "email", &email)? {
            return match (&input.external_ref, &existing.external_ref) {
                (Some(x), None) if !exists(tx, "external_ref", x, None)? => {
                    tx.execute(
                        "UPDATE customers SET external_ref = ?1, updated_at = ?2 WHERE id = ?3",
                        params![x, fmt_ts(now), existing.id],
                    )?;
                    let c = model::require_customer(tx, &existing.reference)?;
                    Ok((StatusCode::OK, Json(views::customer(tx, &c)?)))
                }
                (Some(x), Some(y)) if x == y => {
                    Ok((StatusCode::OK, Json(views::customer(tx, &existing)?)))
                }
                _ => Err(ApiError::conflict(format!(
                    "Customer with identifier email {email} already exists"
                ))),
            };
        }
        if let Some(x) = &input.external_ref
            && exists(tx, "external_ref", x, None)?
        {
            return Err(ApiError::conflict(format!(
                "Customer with identifier externalRef {x} already exists"
            )));
        }
        let now_s = fmt_ts(now);
        let reference = new_ref("cus");
        tx.execute(
            "INSERT INTO customers (id, reference, email, name, telephone, external_ref,
                   description, metadata, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
            params![
                new_id(),
                reference,
                email,
                input.name.clone().unwrap_or_default(),
                input.telephone.clone().filter(|t| !t.is_empty()),
                input.external_ref,
                input.description,
                Value::Object(input.metadata.clone().unwrap_or_default()).to_string(),
                now_s
            ],
        )?;
        let c = model::require_customer(tx, &reference)?;
        Ok((StatusCode::CREATED, Json(views::customer(tx, &c)?)))
    })
    .await
}

/// `GET /v1/sdk/customers?reference=|externalRef=|email=` (exactly one) → `CustomerResponse`.
async fn lookup(State(st): St, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    let q = query_map(q.as_deref());
    let given: Vec<(&str, String)> = [
        ("reference", "reference"),
        ("externalRef", "external_ref"),
        ("email", "email"),
    ]
    .into_iter()
    .filter_map(|(k, col)| q.get(k).filter(|v| !v.is_empty()).map(|v| (col, v.clone())))
    .collect();
    let [(column, value)] = given.as_slice() else {
        return Err(ApiError::bad_request(
            "Must provide exactly one of reference, externalRef, or email",
        ));
    };
    let (column, value) = (column.to_string(), value.clone());
    st.swept_tx(st.clock.now(), move |tx, _| {
        let c = model::find_customer(tx, &column, &value)?
            .ok_or_else(|| ApiError::not_found("Customer not found"))?;
        Ok(Json(views::customer(tx, &c)?))
    })
    .await
}

/// `GET /v1/sdk/customers/{reference}`.
async fn fetch(State(st): St, Path(reference): Path<String>) -> ApiResult<Json<Value>> {
    st.swept_tx(st.clock.now(), move |tx, _| {
        let c = model::require_customer(tx, &reference)?;
        Ok(Json(views::customer(tx, &c)?))
    })
    .await
}

/// `PATCH /v1/sdk/customers/{reference}`: only the supplied fields change.
async fn update(
    State(st): St,
    Path(reference): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let input = read_input(&json_object(&body)?, false)?;
    st.swept_tx(st.clock.now(), move |tx, now| {
            let c: Customer = model::require_customer(tx, &reference)?;
            if let Some(e) = &input.email
                && exists(tx, "email", e, Some(&c.id))?
            {
                return Err(ApiError::conflict(format!(
                    "Customer with identifier email {e} already exists"
                )));
            }
            if let Some(x) = &input.external_ref
                && exists(tx, "external_ref", x, Some(&c.id))?
            {
                return Err(ApiError::conflict(format!(
                    "Customer with identifier externalRef {x} already exists"
                )));
            }
            tx.execute(
                "UPDATE customers SET email = COALESCE(?1, email), name = COALESCE(?2, name),
                   telephone = CASE WHEN ?3 IS NULL THEN telephone WHEN ?3 = '' THEN NULL ELSE ?3 END,
                   external_ref = COALESCE(?4, external_ref), description = COALESCE(?5, description),
                   metadata = COALESCE(?6, metadata), updated_at = ?7
                 WHERE id = ?8",
                params![
                    input.email,
                    input.name,
                    input.telephone,
                    input.external_ref,
                    input.description,
                    input.metadata.map(|m| Value::Object(m).to_string()),
                    fmt_ts(now),
                    c.id
                ],
            )?;
            let c = model::require_customer(tx, &c.reference)?;
            Ok(Json(views::customer(tx, &c)?))
        })
        .await
}

/// `GET /v1/ui/customers?search=&limit=&offset=` → `{customers, total, limit, offset}`.
async fn list(State(st): St, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    let q = query_map(q.as_deref());
    let (limit, offset) = paging(&q, 100)?;
    let search = q.get("search").cloned().unwrap_or_default();
    let status = q.get("status").cloned().filter(|s| !s.is_empty());
    if let Some(s) = &status
        && !matches!(s.as_str(), "active" | "inactive")
    {
        return Err(ApiError::bad_request(
            "status must be one of: active, inactive",
        ));
    }
    st.swept_tx(st.clock.now(), move |tx, _| {
        let pattern = format!("%{}%", search.to_lowercase());
        let active = "EXISTS (SELECT 1 FROM purchases p WHERE p.customer_id = c.id
                          AND p.status IN ('active', 'trialing'))";
        let status_cond = match status.as_deref() {
            Some("active") => format!("AND {active}"),
            Some(_) => format!("AND NOT {active}"),
            None => String::new(),
        };
        let cond = format!(
            "c.deleted_at IS NULL AND (lower(c.name) LIKE ?1 OR lower(c.email) LIKE ?1
                 OR c.reference LIKE ?1) {status_cond}"
        );
        let total: i64 = tx.query_row(
            &format!("SELECT COUNT(*) FROM customers c WHERE {cond}"),
            [&pattern],
            |r| r.get(0),
        )?;
        let mut stmt = tx.prepare(&format!(
            "SELECT c.* FROM customers c WHERE {cond} ORDER BY c.created_at DESC, c.rowid DESC
                 LIMIT ?2 OFFSET ?3"
        ))?;
        let rows: Vec<String> = stmt
            .query_map(params![pattern, limit, offset], |r| r.get("reference"))?
            .collect::<Result<_, _>>()?;
        let mut customers = Vec::new();
        for r in rows {
            let c = model::require_customer(tx, &r)?;
            let mut v = views::customer(tx, &c)?;
            let is_active = v
                .get("purchases")
                .and_then(Value::as_array)
                .is_some_and(|p| !p.is_empty());
            if let Some(m) = v.as_object_mut() {
                m.insert(
                    "status".into(),
                    if is_active { "active" } else { "inactive" }.into(),
                );
            }
            customers.push(v);
        }
        Ok(Json(
            json!({"customers": customers, "total": total, "limit": limit, "offset": offset}),
        ))
    })
    .await
}

/// `DELETE /v1/ui/customers/{id}` (internal id or `cus_` reference): soft delete → 204.
async fn remove(State(st): St, Path(id): Path<String>) -> ApiResult<StatusCode> {
    st.swept_tx(st.clock.now(), move |tx, now| {
        let changed = tx.execute(
            "UPDATE customers SET deleted_at = ?1, updated_at = ?1
                 WHERE (id = ?2 OR reference = ?2) AND deleted_at IS NULL",
            params![fmt_ts(now), id],
        )?;
        if changed == 0 {
            return Err(ApiError::not_found("Customer not found"));
        }
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
