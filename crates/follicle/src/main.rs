//! The `follicle` command.
fn main() {}
