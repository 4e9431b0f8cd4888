//! Both ends of the policy boundary that cross a process: `hasim policy` (our policies driven by
//! JSON lines, for production use) lives in `policy_stdio`.

pub mod policy_stdio;
