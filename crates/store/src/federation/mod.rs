//! Federation tables: envelopes sent and received, the durable outbox, cases,
//! case rosters, recorded refusals, peers' checkpoints, alerts, and witness state.

mod alerts;
mod cases;
mod envelopes;
mod outbox;
mod roster;
mod witness;

pub use alerts::*;
pub use cases::*;
pub use envelopes::*;
pub use outbox::*;
pub use roster::*;
pub use witness::*;
