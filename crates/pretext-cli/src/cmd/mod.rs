//! One file per subcommand.
pub mod bench;
pub mod compare;
pub mod devices;
pub mod embed;
pub mod evaluate;
pub mod export;
pub mod neighbours;
pub mod pretrain;
pub mod quickstart;
pub mod report;
pub mod runs;
pub mod serve;
pub mod sweep;
