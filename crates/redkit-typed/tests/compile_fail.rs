//! The types are enforced by the compiler: see `tests/ui/*.rs` and the errors they must produce.

#[test]
fn wrong_types_do_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
