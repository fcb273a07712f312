//! One file per subcommand: parse arguments, do the I/O, call the library.

pub mod keygen;
pub mod sign;
