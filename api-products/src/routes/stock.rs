//! `/api/stock/reserve` and `/api/stock/release`: the orders service takes an
//! order's units at checkout and gives them back if the checkout is undone.
//! Only the service token opens them (`ServiceCaller`); both are idempotent
//! per order.

use axum::extract::State;
use axum::Json;
use server::{ApiError, ApiResult, FieldErrors, Input, ServiceCaller};
use shared::stock::shortage;
use shared::{ErrorBody, ReleaseRequest, Released, Reservation, ReserveRequest, ResultBody};

use crate::db::stock::{self, Release, Reserve};
use crate::domain::stock::{OrderId, StockClaim};
use crate::state::AppState;

/// Reserve every line of an order in one transaction, or none.
///
/// Reserving an order again returns the first answer and takes nothing more;
/// an order whose reservation was released reserves anew. Stock that is not
/// tracked never runs out (the line is recorded, nothing is counted).
#[utoipa::path(post, path = "/api/stock/reserve", tag = "stock",
    security(("service_token" = [])),
    request_body(content((ReserveRequest = "application/json"))),
    responses(
        (status = 200, description = "Every line reserved (now, or by the first request for this order)", body = ResultBody<Reservation>),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 403, description = "A token that is not the service token", body = ErrorBody),
        (status = 404, description = "not_found: some products do not exist or are hidden, each named in `fields` (nothing reserved)", body = ErrorBody),
        (status = 409, description = "out_of_stock: `fields` names each short product and what is left (nothing reserved)", body = ErrorBody),
        (status = 422, description = "validation_failed: invalid fields, each named", body = ErrorBody),
    ))]
pub async fn reserve(
    State(state): State<AppState>,
    _caller: ServiceCaller,
    Input(req): Input<ReserveRequest>,
) -> ApiResult<Json<ResultBody<Reservation>>> {
    let claim = StockClaim::parse(&req)?;
    let order_id = claim.order_id.get();
    let lines = match stock::reserve(&state.db, &claim).await? {
        Reserve::Reserved(lines) => {
            state.pages.invalidate();
            tracing::info!(order_id, lines = lines.len(), "stock reserved");
            lines
        }
        Reserve::AlreadyReserved(lines) => {
            tracing::info!(order_id, "stock reserved already: the first answer again");
            lines
        }
        Reserve::Unknown(ids) => {
            tracing::info!(order_id, products = ?ids, "stock not reserved: products off sale");
            let fields = ids.into_iter().map(|id| (id.to_string(), shortage(None)));
            return Err(
                ApiError::not_found("Some products are not on sale").with_fields(fields.collect())
            );
        }
        Reserve::Short(left) => {
            tracing::info!(order_id, products = ?left.keys(), "stock not reserved: short");
            let fields: FieldErrors = left
                .into_iter()
                .map(|(id, left)| (id.to_string(), shortage(Some(left))))
                .collect();
            return Err(ApiError::out_of_stock(fields));
        }
    };
    Ok(Json(ResultBody {
        result: Reservation { order_id, lines },
    }))
}

/// Give an order's reserved units back to stock. Releasing again answers the
/// same and gives nothing back twice.
#[utoipa::path(post, path = "/api/stock/release", tag = "stock",
    security(("service_token" = [])),
    request_body(content((ReleaseRequest = "application/json"))),
    responses(
        (status = 200, description = "The reservation is released (now or before)", body = Released),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 403, description = "A token that is not the service token", body = ErrorBody),
        (status = 404, description = "not_found: this order never reserved stock", body = ErrorBody),
        (status = 422, description = "validation_failed: invalid fields, each named", body = ErrorBody),
    ))]
pub async fn release(
    State(state): State<AppState>,
    _caller: ServiceCaller,
    Input(req): Input<ReleaseRequest>,
) -> ApiResult<Json<Released>> {
    let order_id = OrderId::of_release(&req)?;
    match stock::release(&state.db, order_id).await? {
        Release::Released => {
            state.pages.invalidate();
            tracing::info!(order_id = order_id.get(), "stock released");
        }
        Release::AlreadyReleased => {
            tracing::info!(order_id = order_id.get(), "stock released already")
        }
        Release::Unknown => return Err(ApiError::not_found("No reservation for this order")),
    }
    Ok(Json(Released {
        message: "Reservation released".into(),
        order_id: order_id.get(),
    }))
}
