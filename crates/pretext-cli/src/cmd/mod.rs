//! One file per subcommand.
pub mod bench;
pub mod pretrain;
pub mod quickstart;
pub mod runs;
