//! `/api/stock/reserve` and `/api/stock/release`: the orders service takes an
//! order's units at checkout and gives them back if the checkout is undone.
//! Only the service token opens them (`ServiceCaller`); both are idempotent
//! per reservation (v1.3: one checkout attempt, named by orders).

use axum::extract::State;
use axum::Json;
use server::{ApiError, ApiResult, FieldErrors, Input, ServiceCaller};
use shared::stock::shortage;
use shared::{ErrorBody, ReleaseRequest, Released, Reservation, ReserveRequest, ResultBody};

use crate::db::stock::{self, Release, Reserve};
use crate::domain::stock::{ReservationId, StockClaim};
use crate::state::AppState;

/// Reserve every line of a checkout attempt in one transaction, or none.
///
/// Reserving again with the same lines returns the first answer and takes
/// nothing more; a reservation released before (even before it arrived)
/// takes nothing, ever. Stock that is not tracked never runs out (the line is
/// recorded, nothing is counted).
#[utoipa::path(post, path = "/api/stock/reserve", tag = "stock",
    security(("service_token" = [])),
    request_body(content((ReserveRequest = "application/json"))),
    responses(
        (status = 200, description = "Every line reserved (now, or by the first request for this reservation)", body = ResultBody<Reservation>),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 403, description = "A token that is not the service token", body = ErrorBody),
        (status = 404, description = "not_found: some products do not exist or are hidden, each named in `fields` (nothing reserved)", body = ErrorBody),
        (status = 409, description = "out_of_stock: `fields` names each short product and what is left; released: this reservation was released before it arrived; reservation_mismatch: this reservation holds other lines (nothing reserved)", body = ErrorBody),
        (status = 422, description = "validation_failed: invalid fields, each named", body = ErrorBody),
    ))]
pub async fn reserve(
    State(state): State<AppState>,
    _caller: ServiceCaller,
    Input(req): Input<ReserveRequest>,
) -> ApiResult<Json<ResultBody<Reservation>>> {
    let claim = StockClaim::parse(&req)?;
    let order_id = claim.order_id.get();
    let name = claim.reservation.clone();
    let reservation = name.as_str();
    let lines = match state.reservations.reserve(claim).await? {
        Reserve::Reserved(lines) => {
            state.catalogue.stock_changed();
            tracing::info!(reservation, order_id, lines = lines.len(), "stock reserved");
            lines
        }
        Reserve::AlreadyReserved(lines) => {
            tracing::info!(
                reservation,
                "stock reserved already: the first answer again"
            );
            lines
        }
        Reserve::Released => {
            tracing::info!(
                reservation,
                order_id,
                "reserve after its release: nothing taken"
            );
            return Err(ApiError::conflict(
                "released",
                "This reservation was released; nothing was reserved",
            ));
        }
        Reserve::Mismatch => {
            tracing::warn!(
                reservation,
                order_id,
                "reserve with other lines: nothing taken"
            );
            return Err(ApiError::conflict(
                "reservation_mismatch",
                "This reservation holds other lines; nothing more was reserved",
            ));
        }
        Reserve::Unknown(ids) => {
            tracing::info!(reservation, products = ?ids, "stock not reserved: products off sale");
            let fields = ids.into_iter().map(|id| (id.to_string(), shortage(None)));
            return Err(
                ApiError::not_found("Some products are not on sale").with_fields(fields.collect())
            );
        }
        Reserve::Short(left) => {
            tracing::info!(reservation, products = ?left.keys(), "stock not reserved: short");
            let fields: FieldErrors = left
                .into_iter()
                .map(|(id, left)| (id.to_string(), shortage(Some(left))))
                .collect();
            return Err(ApiError::out_of_stock(fields));
        }
    };
    Ok(Json(ResultBody {
        result: Reservation {
            reservation: reservation.to_owned(),
            order_id,
            lines,
        },
    }))
}

/// Give a reservation's units back to stock. Releasing again answers the
/// same and gives nothing back twice; releasing a reservation never seen
/// records it as released, so a reserve arriving later takes nothing.
#[utoipa::path(post, path = "/api/stock/release", tag = "stock",
    security(("service_token" = [])),
    request_body(content((ReleaseRequest = "application/json"))),
    responses(
        (status = 200, description = "The reservation is released (now, before, or, never seen, from now on)", body = Released),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 403, description = "A token that is not the service token", body = ErrorBody),
        (status = 422, description = "validation_failed: invalid fields, each named", body = ErrorBody),
    ))]
pub async fn release(
    State(state): State<AppState>,
    _caller: ServiceCaller,
    Input(req): Input<ReleaseRequest>,
) -> ApiResult<Json<Released>> {
    let reservation = ReservationId::of_release(&req)?;
    let name = reservation.as_str();
    match stock::release(&state.db, &reservation).await? {
        Release::Released => {
            state.catalogue.stock_changed();
            tracing::info!(reservation = name, "stock released");
        }
        Release::AlreadyReleased => tracing::info!(reservation = name, "stock released already"),
        Release::Tombstoned => {
            tracing::info!(
                reservation = name,
                "released before it was reserved: a tombstone"
            )
        }
    }
    Ok(Json(Released {
        message: "Reservation released".into(),
        reservation: name.to_owned(),
    }))
}
