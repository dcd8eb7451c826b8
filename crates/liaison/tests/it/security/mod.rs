//! Attacks on a node, each reproduced against real nodes and refused: by a
//! reader above whose clearance something is marked (`tlp`), by a peer
//! with its own real keys (`peers`), by an outsider spending the node's
//! resources (`limits`), and on accounts and sessions (`accounts`).

mod accounts;
mod attachments;
mod limits;
mod peers;
mod tlp;
