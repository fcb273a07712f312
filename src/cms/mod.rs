//! cms: being written.
