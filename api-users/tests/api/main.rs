//! Black-box tests of the users service: the real binary, a fresh database per
//! test (SQLite and PostgreSQL), HTTP only. One binary, modules by area.

mod admin;
mod bodies;
mod limits;
mod login;
mod ops;
mod register;
mod session;
