//! Both ends of the policy boundary that cross a process: `hasim policy` (our policies driven by
//! JSON lines, for production use) lives in `policy_stdio`; an external controller process
//! driven by the simulator lives in `external`; `lines` reads capped JSON lines for both.

pub mod external;
pub mod lines;
pub mod policy_stdio;
