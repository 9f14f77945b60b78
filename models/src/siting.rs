//! Siting: what a candidate site's grid offers a new campus. The groundwork of
//! `campustwin site`: the headroom of a balancing authority for a flexible new load.

pub mod grid;
pub mod headroom;
