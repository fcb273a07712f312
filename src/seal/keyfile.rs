//! Key files on disk: being written.
