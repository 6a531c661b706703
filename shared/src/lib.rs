//! The wire format of Cartwheel, defined once.
//!
//! Every JSON body that crosses a service boundary (SPA to service, service to
//! service, tests to service) is one of these types, so the SPA, the services and
//! the tests cannot drift apart. The contract they implement is `docs/API.md`
//! in the repository. This crate compiles to `wasm32-unknown-unknown`.

#[macro_use]
pub mod envelope;
pub mod lenient;
pub mod money;
pub mod order;
pub mod pattern;
pub mod product;
pub mod stock;
pub mod user;

pub use envelope::{Created, ErrorBody, ExistsBody, ListBody, ListQuery, MessageBody, ResultBody};
pub use order::{
    Actor, AddItemRequest, CancelReason, CheckoutRequest, Item, Order, OrderEvent, OrderStatus,
    OrdersQuery, PayRequest, Payment, ShipRequest, ShippingAddress, UpdateItemRequest,
};
pub use product::{
    CreateProductRequest, Product, ProductCreated, ProductsQuery, UpdateProductRequest,
};
pub use stock::{ReleaseRequest, Released, Reservation, ReserveRequest, StockLine};
pub use user::{
    password_problem, LoginRequest, LoginResponse, LogoutAllBody, RegisterRequest, User,
};

/// Default ports of the services, from the contract.
pub mod ports {
    pub const USERS: u16 = 5001;
    pub const PRODUCTS: u16 = 5002;
    pub const ORDERS: u16 = 5003;
    pub const SPA: u16 = 8080;
}
