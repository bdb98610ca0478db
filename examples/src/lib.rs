//! Runnable examples of the redkit workspace; see `examples/`.
