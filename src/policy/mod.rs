//! HA policies: production decision logic behind `api`.
//!
//! Must not import `sim`, `world`, `infra` or anything else in the crate but `api` (a test in
//! `tests/integration/boundary.rs` enforces it): the same code runs behind a production adapter.

pub mod api;
pub mod none;

/// Every policy name a scenario's `policy.name` may use.
pub const POLICY_NAMES: &[&str] = &["none"];

/// Builds a policy by its registered name.
pub fn by_name(name: &str) -> Option<Box<dyn api::Policy>> {
    match name {
        "none" => Some(Box::new(none::NoPolicy)),
        _ => None,
    }
}
