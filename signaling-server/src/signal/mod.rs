//! Signaling: the pure routing core ([`hub`]), the thin driver that owns it and the live
//! connections ([`driver`]), and the WebSocket endpoints for agents and experts ([`ws`]).

pub mod driver;
pub mod hub;
pub mod ws;

pub use driver::SignalHub;
pub use hub::NewSession;
